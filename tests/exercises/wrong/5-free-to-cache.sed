# exercise 5, a typical wrong answer: the objects come from kmalloc but go back with kmem_cache_free to the module's cache.
# expect: Wrong slab cache
s/^            Slab.Kfree(obj);$/            Slab.KmemCacheFree(s_cache, obj);/
