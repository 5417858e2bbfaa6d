# exercise 8, a typical wrong answer: two of the three bugs fixed; del still forgets to free.
# expect: the module left 1 object in simple_cache
/^            Printk.PrInfo("CACHE: freeing object %d\\n"u8, id);$/{n;d}
