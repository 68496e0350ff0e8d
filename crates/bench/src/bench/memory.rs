//! This process's resident memory, for the peak RSS figures.

/// This process's resident memory, from `/proc/self/status` (Linux); `None` elsewhere.
pub(super) struct Memory;

impl Memory {
    /// Resets the high-water mark to the current RSS (`clear_refs` 5, Linux 4.0 and later)
    /// and returns the current RSS in kB.
    pub(super) fn reset_peak() -> Option<u64> {
        // Where the reset is refused the peak includes what came before; the RSS shows it.
        let _ = std::fs::write("/proc/self/clear_refs", "5");
        Memory::status_kb("VmRSS:")
    }

    /// The peak RSS in kB since the last reset.
    pub(super) fn peak() -> Option<u64> {
        Memory::status_kb("VmHWM:")
    }

    fn status_kb(field: &str) -> Option<u64> {
        Memory::field_kb(&std::fs::read_to_string("/proc/self/status").ok()?, field)
    }

    /// `field` of a `/proc/<pid>/status` text, in kB: `VmHWM:\t  1234 kB` -> 1234.
    fn field_kb(status: &str, field: &str) -> Option<u64> {
        let line = status.lines().find(|line| line.starts_with(field))?;
        line[field.len()..]
            .trim()
            .trim_end_matches("kB")
            .trim()
            .parse()
            .ok()
    }

    pub(super) fn show(kb: Option<u64>) -> String {
        kb.map_or_else(|| "unknown".to_owned(), |kb| format!("{} MB", kb / 1024))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_fields_are_read_in_kb() {
        let status = "Name:\tferry\nVmHWM:\t   40960 kB\nVmRSS:\t   31744 kB\n";
        assert_eq!(Memory::field_kb(status, "VmHWM:"), Some(40_960));
        assert_eq!(Memory::field_kb(status, "VmRSS:"), Some(31_744));
        assert_eq!(Memory::field_kb(status, "VmSwap:"), None);
        assert_eq!(Memory::show(Some(40_960)), "40 MB");
        assert_eq!(Memory::show(None), "unknown");
    }
}
