# exercise 3, a typical wrong answer: a freed object keeps its id.
# expect: has id 2, not -1
/^            obj->Id = -1;$/d
