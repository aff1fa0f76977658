"""Real data in and out: Shapefile, GeoPackage, GeoJSON, CSV and Excel, with China's CRSs and encodings.

- ``readers``  open a file (size/type limits, safe zip unpacking) into a frame; CSV by pyarrow from the file;
- ``xlsx``     an Excel workbook checked before parsing, then parsed in a limited worker (``xlsx_worker``);
- ``checks``   at most one heavy file check per user at a time;
- ``encoding`` .cpg, else UTF-8 vs GBK/GB18030 detection; garbled Chinese is refused;
- ``crs``      .prj, CGCS2000 and its Gauss-Krüger zones, GCJ-02/BD-09, guesses, district check;
- ``fields``   column → field mapping with the usual Chinese headers;
- ``validate`` every bad row with its number and reason;
- ``importer`` one transaction per import, upsert by code, audit entry;
- ``exporter`` by file extension, so that what was imported exports back the same;
- ``sheets``   the one writer of .xlsx / .csv files, formula-safe;
- ``files``    Shapefile and GeoPackage writers;
- ``boundaries`` grid boundaries read for planning and check-grids (the same reader, topology left to it);
- ``cli``      ``python -m gis import|export``.
"""


class InputError(ValueError):
    """The input cannot be used; the message (Chinese) is shown to the user as is, never a traceback."""
