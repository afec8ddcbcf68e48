#!/usr/bin/python3
"""confset.py CONF GROUP KEY VALUE - set "KEY = VALUE;" in group GROUP of an
okuru.conf written by okuructl init (adding the key or the group if absent);
GROUP "-" is the top level.
VALUE is written as given: quote strings yourself ('"4000M"'). Used by the
integration tests and the benchmarks."""
import re
import sys

path, group, key, value = sys.argv[1:]
text = open(path).read()
if group == "-":
    line = re.compile(r"(?m)^%s = .*;$" % re.escape(key))
    new = "%s = %s;" % (key, value)
    text = line.sub(lambda _: new, text) if line.search(text) else new + "\n" + text
    open(path, "w").write(text)
    sys.exit(0)
m = re.search(r'(?ms)^%s = \{\n(.*?)^\};' % re.escape(group), text)
if m is None:
    text += "\n%s = {\n  %s = %s;\n};\n" % (group, key, value)
else:
    body = m.group(1)
    line = re.compile(r'(?m)^\s*%s = .*$' % re.escape(key))
    if line.search(body):
        body = line.sub(lambda _: "  %s = %s;" % (key, value), body)
    else:
        body += "  %s = %s;\n" % (key, value)
    text = text[:m.start(1)] + body + text[m.end(1):]
open(path, "w").write(text)
