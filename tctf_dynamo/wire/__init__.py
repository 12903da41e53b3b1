"""The wire form: Python values <-> DynamoDB AttributeValues, DynamoDB JSON, item sizes.

The lowest layer above ``errors`` and ``limits``: pure functions on values, no I/O
and no model. ``codec`` converts values, ``attribute_values`` checks the rules
DynamoDB applies to every AttributeValue, ``jsonwire`` converts DynamoDB JSON,
``sizes`` counts an item's bytes as DynamoDB does, ``documents`` reports the path to
a failing value inside a document.
"""
