"""Who may do what: roles checked in the core, in every function that writes.

Pages hide buttons a user may not press, but the rule lives here: each write function in
gis/ takes an `Actor` and calls `require(actor, action, grid_code=…)` before touching the
database, so calling it directly for another grid fails the same way. Permission comes first:
`require_role` before any argument is checked, `require` with the grid as soon as it is known.

| role            | may                                                        |
|-----------------|------------------------------------------------------------|
| 领导            | view everything, including the wall screen                 |
| 网格长 / 网格员 | view everything; change only their own grid's problems     |
| 核查员          | verify or return problems (核查通过 / 退回)                 |
| 指挥中心        | 立案 / 不予立案 public reports; approve or refuse 延期 / 缓办 |
| 规划员          | edit grid boundaries (drafts, publish, restore)            |
| 管理员          | manage users and imports, read the audit log               |
| (issue 14)      | 三色牌: 核查员 / 指挥中心 / 领导 issue; 指挥中心 / 领导 escalate; |
|                 | 领导 exposes, records 约谈/问责, lifts; 指挥中心 / 管理员 run the |
|                 | monthly rules; 领导 / 管理员 export the 督查通报              |
| (issue 12 §5)   | 负面清单事件: 指挥中心 / 领导 / 管理员 report, confirm, withdraw |

Districts (区县, issue 17): every user but a city-level one (市文明办: a 领导 or 管理员 with no district)
sees and changes only their own district's data. `district_scope` is the district a reader's queries
are limited to (None: the whole city); writers pass the district of what they change to `require`.
Users themselves are data of their district: a district's 管理员 manages only their district's users, a
city-level user only a city-level 管理员 (`require_user`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

LEADER, GRID_CHIEF, GRID_WORKER, VERIFIER, PLANNER, ADMIN = "领导", "网格长", "网格员", "核查员", "规划员", "管理员"
COMMAND = "指挥中心"  # numbers (issue 12): the command centre's dispatchers (调度员)
ROLES = (LEADER, GRID_CHIEF, GRID_WORKER, VERIFIER, PLANNER, ADMIN, COMMAND)
KIOSK = "大屏"  # not a user role: a read-only wall-screen token
API_CLIENT = "外部系统"  # street (issue 15): not a user role: an Open311 client by its API key (gis.people.apikeys)

# Actions that write, and the roles allowed to do them. Grid-scoped actions are further
# limited to the actor's own grid for 网格长 / 网格员.
ACTIONS: dict[str, frozenset[str]] = {
    "problem.create": frozenset({GRID_CHIEF, GRID_WORKER, VERIFIER, API_CLIENT}),  # 核查员: 督查/暗访 finds (issue 15)
    "problem.followup": frozenset({API_CLIENT, COMMAND}),  # street (issue 15): the 12345 回访
    "inspection.record": frozenset({VERIFIER}),  # street (issue 15): 测评录入 by inspectors on the phone
    "problem.dispatch": frozenset({GRID_CHIEF, GRID_WORKER}),
    "problem.acknowledge": frozenset({GRID_CHIEF, GRID_WORKER}),
    "problem.submit": frozenset({GRID_CHIEF, GRID_WORKER}),
    "problem.verify": frozenset({VERIFIER}),
    "problem.return": frozenset({VERIFIER}),
    "problem.register": frozenset({COMMAND}),
    "problem.request": frozenset({GRID_CHIEF, GRID_WORKER}),
    "problem.approve": frozenset({COMMAND}),
    "grid.edit": frozenset({PLANNER}),
    "grid.publish": frozenset({PLANNER}),
    "data.import": frozenset({ADMIN}),
    "registry.edit": frozenset({ADMIN}),  # 测评标准 points, 问题类型 limits and aliases (gis.registry.edits)
    "user.manage": frozenset({ADMIN}),
    "audit.view": frozenset({ADMIN}),
    # accountability (issue 14): 三色牌, 曝光台, 约谈 / 问责, 督查通报
    "card.issue": frozenset({VERIFIER, COMMAND, LEADER}),
    "card.escalate": frozenset({COMMAND, LEADER}),
    "card.expose": frozenset({LEADER}),
    "card.interview": frozenset({LEADER}),
    "card.lift": frozenset({LEADER}),
    "card.rules": frozenset({COMMAND, ADMIN}),
    "bulletin.export": frozenset({LEADER, ADMIN}),
    # negative list (issue 12 §5): 负面清单事件 — reported, then confirmed or withdrawn, by the command centre
    "negative.report": frozenset({COMMAND, LEADER, ADMIN}),
    "negative.decide": frozenset({COMMAND, LEADER, ADMIN}),
    # districts (issue 17): a city-level 管理员 adds districts and sets their own settings (gis.registry.districts)
    "district.manage": frozenset({ADMIN}),
}
GRID_SCOPED = frozenset({"problem.create", "problem.dispatch", "problem.acknowledge", "problem.submit",
                         "problem.request"})
OWN_GRID_ROLES = frozenset({GRID_CHIEF, GRID_WORKER})
CITY_ROLES = frozenset({LEADER, ADMIN})  # may be city-level (市文明办): no district of their own


class PermissionDenied(PermissionError):
    """The actor may not do this; the message is shown to users as is (Chinese)."""


@dataclass(frozen=True)
class Actor:
    """Who is acting: a signed-in user, or the system (CLI run by an operator on the server)."""

    username: str
    role: str
    grid_code: str | None = None
    name: str | None = field(default=None, compare=False)  # the person's display name (姓名), for screens
    district_code: str | None = None  # their district (区县); None: city-level (市文明办) or the system

    @property
    def shown(self) -> str:
        """What screens call this person: their name, else the username."""
        return self.name or self.username

    @classmethod
    def system(cls, name: str = "命令行") -> "Actor":
        """The operator at the server's command line: acts as 管理员."""
        return cls(username=name, role=ADMIN)


def district_scope(actor: Actor | None) -> str | None:
    """The district whose data `actor` sees and changes; None: every district (city-level, the system, a
    wall-screen token). Readers pass it to gis/ queries; `in_scope` checks one thing's district."""
    return None if actor is None else actor.district_code


def in_scope(actor: Actor | None, district_code: str | None) -> bool:
    """True when something of `district_code` lies in `actor`'s scope (always, for a city-level actor)."""
    scope = district_scope(actor)
    return scope is None or district_code == scope


def allowed(actor: Actor, action: str, grid_code: str | None = None, district_code: str | None = None) -> bool:
    """True when `actor` may do `action` (on `grid_code`, for grid-scoped actions; on something of
    `district_code`, when given: a district's user acts in their district only)."""
    roles = ACTIONS.get(action)
    if roles is None:
        raise ValueError(f"unknown action {action!r}")
    if actor.role not in roles:
        return False
    if district_code is not None and not in_scope(actor, district_code):
        return False
    if action in GRID_SCOPED and actor.role in OWN_GRID_ROLES:
        return grid_code is not None and grid_code == actor.grid_code
    return True


def may(actor: Actor | None, action: str, grid_code: str | None = None, district_code: str | None = None) -> bool:
    """`allowed` for whoever is at a page: False when nobody is signed in. Pages ask this, never a role name."""
    return actor is not None and allowed(actor, action, grid_code, district_code)


def own_grid(actor: Actor | None) -> str | None:
    """The grid a 网格长 / 网格员 answers for (their home on the grid page); None for every other role."""
    return actor.grid_code if actor is not None and actor.role in OWN_GRID_ROLES else None


def refusal(actor: Actor, action: str, grid_code: str | None = None, district_code: str | None = None) -> str:
    """Why `actor` may not do `action` (on `grid_code`), in Chinese: the grid when the role would
    be allowed on its own grid (e.g. "该问题属于网格 DC-12，您负责的是 DC-07"), the district when it
    lies in another, else the role."""
    if actor.role in ACTIONS[action] and district_code is not None and not in_scope(actor, district_code):
        return f"无权操作：该对象属于区县 {district_code}，您的账户只管理区县 {actor.district_code} 的数据。"
    if action in GRID_SCOPED and actor.role in ACTIONS[action] and actor.role in OWN_GRID_ROLES:
        if not actor.grid_code:
            return f"无权操作：您的账户（{actor.role}）尚未指定负责的网格，请联系管理员。"
        return f"无权操作：该问题属于网格 {grid_code or '（未知）'}，您负责的是 {actor.grid_code}。"
    return f"无权操作：角色“{actor.role}”不能执行“{ACTION_LABELS.get(action, action)}”。"


def require(actor: Actor, action: str, grid_code: str | None = None, district_code: str | None = None) -> None:
    """Raise PermissionDenied unless `actor` may do `action` (on `grid_code`, in `district_code`); the
    message is `refusal`."""
    if not allowed(actor, action, grid_code, district_code):
        raise PermissionDenied(refusal(actor, action, grid_code, district_code))


def manages_user(actor: Actor, district_code: str | None) -> bool:
    """True when `actor` may manage (reset the password of, disable, enable) a user of `district_code` (None: a
    city-level user, 市文明办). A city-level 管理员 manages every user; a district's 管理员 only their own district's —
    never a city-level user nor another district's, who would otherwise be theirs to lock out or take over."""
    if not allowed(actor, "user.manage"):
        return False
    scope = district_scope(actor)
    return scope is None or district_code == scope


def require_user(actor: Actor, username: str, district_code: str | None) -> None:
    """Raise PermissionDenied (Chinese, as `require`) unless `actor` may manage the user `username` of
    `district_code` (`manages_user`): the role's refusal, another district's, or — for a city-level user — that
    only a city-level administrator may."""
    if manages_user(actor, district_code):
        return
    if not allowed(actor, "user.manage"):
        raise PermissionDenied(refusal(actor, "user.manage"))
    if district_code is None:
        raise PermissionDenied(f"无权操作：用户“{username}”是市级用户（市文明办），只能由市级管理员管理；"
                               f"您的账户只管理区县 {actor.district_code} 的用户。")
    raise PermissionDenied(refusal(actor, "user.manage", district_code=district_code))


def require_role(actor: Actor, action: str) -> None:
    """Raise PermissionDenied unless `actor`'s role may do `action` on some grid.

    The first line of every writer, before it reads its arguments or the database: a user who
    may not act learns nothing from the answer (not whether a problem, unit or user exists).
    Grid-scoped actions still need `require` with the grid once it is known.
    """
    roles = ACTIONS.get(action)
    if roles is None:
        raise ValueError(f"unknown action {action!r}")
    if actor.role not in roles or (action in GRID_SCOPED and actor.role in OWN_GRID_ROLES and not actor.grid_code):
        raise PermissionDenied(refusal(actor, action))


ACTION_LABELS = {
    "problem.create": "上报问题", "problem.dispatch": "派遣", "problem.acknowledge": "签收",
    "problem.submit": "提交整改", "problem.verify": "核查通过", "problem.return": "退回",
    "problem.register": "立案", "problem.followup": "回访", "inspection.record": "测评录入", "problem.request": "申请延期/缓办", "problem.approve": "审批延期/缓办",
    "grid.edit": "编辑网格边界", "grid.publish": "发布网格版本", "data.import": "导入数据", "registry.edit": "修改测评标准与问题类型",
    "user.manage": "管理用户", "audit.view": "查看审计日志",
    "card.issue": "签发三色牌", "card.escalate": "升级处置", "card.expose": "曝光", "card.interview": "约谈/问责",
    "card.lift": "摘牌", "card.rules": "执行月度亮牌规则", "bulletin.export": "导出督查通报",
    "negative.report": "登记负面清单事件", "negative.decide": "确认/撤销负面清单事件", "district.manage": "管理区县",
}
