# exercise 4, a typical wrong answer: when an object cannot be allocated, the cache is destroyed but the objects made before are not freed.
# expect: left object 1 (alpha) allocated
/allocation of object %d failed, undoing/{n;s/DestroyAll();/Slab.KmemCacheDestroy(s_cache);/}
