# exercise 6, a typical wrong answer: every open gets in, so two writers interleave.
# expect: a second writer while one holds the file open: -EBUSY
/^            if (writable != 0 && Sync.AtomicCmpxchg(WriterOpen, 0, 1) != 0)$/{N;d}
