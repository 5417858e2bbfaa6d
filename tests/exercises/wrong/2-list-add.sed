# exercise 2, a typical wrong answer: list_add (at the head) instead of list_add_tail.
# expect: lists the objects newest first
s/^            Kernel.List.AddTail(&obj->List, Objects);$/            Kernel.List.Add(\&obj->List, Objects);/
