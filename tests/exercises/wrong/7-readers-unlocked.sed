# exercise 7, a typical wrong answer: the writers lock, the readers do not.
# expect: inconsistent read
/public static int ProcShow(SeqFile\* m)/,/return 0;/{/Sync.RawSpin\(Un\)\?[Ll]ock(s_lock);/d}
