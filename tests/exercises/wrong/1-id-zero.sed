# exercise 1, a typical wrong answer: the constructor zeroes the id instead of setting -1.
# expect: has id 0, not -1
s/^            c->Id = -1;$/            c->Id = 0;/
