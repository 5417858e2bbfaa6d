# exercise 4, a typical wrong answer: the last step's failure (the map's proc file) undoes nothing.
# expect: insmod fail_nth=6 (the allocation of /proc/simple_cache_map fails) left the cache simple_cache
/cannot create \/proc\/simple_cache_map, undoing/{n;d}
