"""Small example clients of the shipped APIs, most of them written to be wrong on purpose.

The plugin tests (``tests/contracts/test_plugin*.py``) run them against ``apitwin_mock`` to show
that each defect is caught with a message naming the field.
"""
