"""`flask import results FILE` / `flask import needs FILE`."""

from flask.cli import AppGroup

import_cli = AppGroup("import", help="从 CSV / XLSX 批量导入科技成果或技术需求")
