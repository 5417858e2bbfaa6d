# exercise 5, a typical wrong answer: kmalloc is asked for a round 128 bytes, "to be safe".
# expect: 128-byte slots
s/Slab.Kmalloc((nuint)sizeof(CacheObj), Gfp.Kernel)/Slab.Kmalloc(128, Gfp.Kernel)/
