# exercise 8, a typical wrong answer: two of the three bugs fixed; a failed copy still frees the buffer twice.
# expect: slub_debug found a bug in kmalloc-
s/^            long ret = Uaccess.CopyFromUser(buf, user, length) != 0 ? -Errno.EFAULT : Command(buf, (int)length);$/            long ret;\n            if (Uaccess.CopyFromUser(buf, user, length) != 0)\n            {\n                Slab.Kfree(buf);\n                ret = -Errno.EFAULT;\n            }\n            else\n                ret = Command(buf, (int)length);/
