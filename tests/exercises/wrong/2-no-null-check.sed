# exercise 2, a typical wrong answer: kmem_cache_alloc's result used without checking it for NULL.
# expect: crashed the kernel
/^                CacheObj\* obj = AllocObject();$/{n;N;N;N;N;N;N;N;d}
