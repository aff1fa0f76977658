"""The registries a city loads and edits: its 测评体系 (assessment system: items, contents, standards, the 负面清单)
and the rules of its 问题类型 (categories), each rule in force from a date (规则按日期生效; the versions themselves are `gis.db.rule_versions`, read by
scores and deadlines).

- `edits`: the 管理员's edits on 系统管理 (a standard's points, a category's limit, aliases, a new category).
- `assessment_file`: the 测评体系 Excel import (kind ``assessment``), a new version of the system from a date.
"""
