# exercise 3, a typical wrong answer: list_del (which poisons the node) instead of list_del_init.
# expect: list node (object 2, freed by del) is not empty
s/^            Kernel.List.DelInit(&obj->List);$/            Kernel.List.Del(\&obj->List);/
