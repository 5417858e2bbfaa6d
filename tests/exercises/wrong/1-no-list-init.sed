# exercise 1, a typical wrong answer: the constructor leaves the list node as the slab's memory had it.
# expect: list node (one of the first slab's) is not empty
/^            Kernel.List.Init(&c->List);$/d
