#!/usr/bin/python3
"""test-gir-since.py: every public symbol in the introspection data says since
when it exists (a `Since:` tag in its documentation), as the house requires.

Run with the GIR file as the argument. The class structures that
G_DECLARE_FINAL_TYPE generates have no documentation of their own and are
left out; so are virtual methods, documented with their class. TAP output."""
import sys
import xml.etree.ElementTree as ET

CORE = '{http://www.gtk.org/introspection/core/1.0}'
GLIB = '{http://www.gtk.org/introspection/glib/1.0}'
KINDS = {CORE + k for k in ('class', 'interface', 'record', 'enumeration', 'bitfield', 'function',
                            'method', 'constructor', 'constant', 'property', 'callback', 'alias')}
KINDS.add(GLIB + 'signal')


def undated(element, parent, found):
    for child in element:
        if child.tag == CORE + 'namespace':
            undated(child, '', found)
        elif child.tag in KINDS:
            name = (parent + '.' if parent else '') + child.get('name', '?')
            generated_class = child.tag == CORE + 'record' and child.get(GLIB + 'is-gtype-struct-for') \
                and child.find(CORE + 'doc') is None
            if 'version' not in child.attrib and not generated_class:
                found.append(name)
            undated(child, child.get('name', '?'), found)
    return found


def main():
    missing = undated(ET.parse(sys.argv[1]).getroot(), '', [])
    print('1..1')
    for name in missing:
        print('# no Since: tag: ' + name)
    print(('ok' if not missing else 'not ok') + ' 1 /gir/every-symbol-has-since')
    return 0 if not missing else 1


if __name__ == '__main__':
    sys.exit(main())
