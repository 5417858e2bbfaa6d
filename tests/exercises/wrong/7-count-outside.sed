# exercise 7, a typical wrong answer: the reader prints the count before it takes the lock, so the count and the list can disagree.
# expect: inconsistent read
/public static int ProcShow(SeqFile\* m)/,/return 0;/{/^            Sync.RawSpinLock(s_lock);$/d;/^            Proc.SeqPrintf(m, "objects: /{n;s/^\(.*\)$/\1\n            Sync.RawSpinLock(s_lock);/}}
