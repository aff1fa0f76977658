"""Accountability (问责体系, issue 14): 点长责任制 and 点位达标率 (`points`), the 三色牌 register with
its escalation ladder (`cards`), the 曝光台 (`exposure`), 约谈 / 问责 records (`interviews`) and the
monthly 督查通报 (`bulletin`)."""
