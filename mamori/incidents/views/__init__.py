"""The incident pages: the ward's case file, the joint CSIRT's view of granted cases, measures, contacts.

Views check and convert input with ``mamori.incidents.forms`` and make every change through
``mamori.incidents.actions``; they never write a case's state themselves.
"""
