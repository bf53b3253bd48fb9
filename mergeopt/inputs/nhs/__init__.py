"""NHS Digital's files as downloaded -> the practices table (``mergeopt prepare``).

:func:`~mergeopt.inputs.nhs.assembly.prepare` is the entry; its module says what it
reads, which file wins, and which practices it leaves out and why.

- ``files``: which file is which (from its header) and reading one as expected
- ``publications``: one reader per NHS file (list sizes, mapping, epraccur, ePCN)
- ``postcodes``: the postcode lookup and the coordinates it gives
- ``selection``: one row per practice, fields by precedence; the areas asked for
- ``exclusions``: the practices that cannot be used, and why
- ``assembly``: :func:`prepare` and :func:`write_prepared`

May import: ``mergeopt._errors``, ``mergeopt.inputs.tables``, ``mergeopt.geo.crs``.
"""
