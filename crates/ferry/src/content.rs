//! `ferry content verify`: every stored content re-hashed against its address, and every
//! content an object references looked for. Problems are printed one per line, then a summary;
//! any problem exits 1.

use crate::Failure;
use crate::cli::{ContentCommand, StoreArgs};
use crate::progress;
use crate::serve::open_store;
use ferry_store::content_gc;

pub fn run(args: &StoreArgs, command: ContentCommand) -> Result<(), Failure> {
    match command {
        ContentCommand::Verify => verify(args),
    }
}

fn verify(args: &StoreArgs) -> Result<(), Failure> {
    let store = open_store(args)?;
    let work = |e: &dyn std::fmt::Display| Failure::Work(format!("cannot verify the content: {e}"));
    let stored = store.content().stored().map_err(|e| work(&e))?;
    let bytes: u64 = stored.iter().map(|(_, len)| len).sum();
    let bar = progress::bar(bytes, "{bar:30} {bytes}/{total_bytes} {msg} ({eta})");
    let mut corrupt = 0usize;
    for (index, (sha256, _)) in stored.iter().enumerate() {
        bar.set_message(format!("{}/{} contents", index + 1, stored.len()));
        match store.content().matches_address(sha256, |n| bar.inc(n)) {
            Ok(true) => {}
            Ok(false) => {
                corrupt += 1;
                bar.suspend(|| {
                    println!("corrupt\t{sha256}\tthe bytes no longer hash to their address")
                });
            }
            // Collected meanwhile.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(work(&e)),
        }
    }
    bar.finish_and_clear();
    let missing = content_gc::missing(&store).map_err(|e| work(&e))?;
    for (sha256, objects) in &missing {
        println!("missing\t{sha256}\treferenced by {objects} object(s)");
    }
    let summary = format!(
        "verified {} contents ({bytes} bytes): {corrupt} corrupt, {} missing",
        stored.len(),
        missing.len()
    );
    if corrupt == 0 && missing.is_empty() {
        println!("{summary}");
        Ok(())
    } else {
        Err(Failure::Work(summary))
    }
}
