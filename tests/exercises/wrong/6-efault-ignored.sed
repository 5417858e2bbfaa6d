# exercise 6, a typical wrong answer: copy_from_user's result is not looked at, and the command runs on whatever the buffer held.
# expect: a write from an address the kernel cannot read: -EFAULT
s/^            long ret = Uaccess.CopyFromUser(buf, user, length) != 0 ? -Errno.EFAULT : Command(buf, (int)length);$/            Uaccess.CopyFromUser(buf, user, length);\n            long ret = Command(buf, (int)length);/
