# exercise 3, a typical wrong answer: the object's id is logged after it was freed.
# expect: read after it was freed
/^                Printk.PrInfo("CACHE: freeing object %d\\n"u8, obj->Id);$/{N;s/\(.*\)\n\(.*\)/\2\n\1/}
