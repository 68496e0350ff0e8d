"""What the session's source project holds, by name (see the `source` fixture)."""

# At the root: enough files for three pages of two (with the folder `reads`), distinct bytes.
ROOT_FILES = {f"{stem}.txt": f"contents of {stem}\n".encode() for stem in "abcde"}
# In the folder `reads`.
READS_FILES = {"r1.fastq": b"@r1\nACGT\n+\nIIII\n"}
