"""Column headers of the dealer system's exports (DMS, insurer portals), Chinese and English,
mapped to the importer's field names; and the value vocabularies (险种, 渠道, 出险类型 ...).

Headers are compared after `header_key`: case, spaces, underscores, slashes and brackets do not
matter, so "车架号/VIN", "VIN", "vin" and "车架号" all name the same column.
"""

from __future__ import annotations

import re

_HEADER_NOISE = re.compile(r"[\s_\-/\\()（）\[\]【】:：*]+")

HEADERS: dict[str, tuple[str, ...]] = {
    "name": (
        "客户姓名",
        "姓名",
        "客户名称",
        "车主",
        "车主姓名",
        "name",
        "customer",
        "customer name",
        "owner",
    ),
    "phone": ("手机号", "手机号码", "手机", "联系电话", "电话", "车主电话", "phone", "mobile", "telephone"),
    "gender": ("性别", "gender", "sex"),
    "city": ("城市", "所在城市", "city"),
    "plate": (
        "车牌号",
        "车牌号码",
        "车牌",
        "号牌号码",
        "plate",
        "plate no",
        "licence plate",
        "license plate",
    ),
    "vin": ("车架号vin", "车架号", "vin", "车辆识别代号", "vin码"),
    "brand": ("品牌", "厂牌", "brand", "make"),
    "model": ("车型", "车系", "model"),
    "series": ("款型", "配置", "车型配置", "series", "trim"),
    "price_class": ("价格级别", "价位", "price class"),
    "purchase_date": ("购车日期", "购买日期", "开票日期", "purchase date"),
    "mileage": ("里程", "行驶里程", "进厂里程", "公里数", "mileage", "mileage km", "odometer"),
    "policy_no": ("保单号", "保单号码", "商业险保单号", "policy no", "policy number", "policy"),
    "insurer": ("保险公司", "承保公司", "insurer", "insurance company"),
    "start_date": ("起保日期", "保险起期", "生效日期", "start date", "start"),
    "end_date": ("到期日期", "保险止期", "终保日期", "截止日期", "end date", "expiry date", "expiry"),
    "premium": ("保费", "商业险保费", "保费金额", "premium"),
    "ncd_factor": ("ncd系数", "无赔款优待系数", "ncd", "ncd factor"),
    "channel": ("渠道", "销售渠道", "出单渠道", "channel"),
    "coverages": ("险种", "承保险种", "险别", "coverages", "coverage"),
    "claim_no": ("报案号", "赔案号", "理赔编号", "claim no", "claim number"),
    "claim_date": ("出险日期", "出险时间", "事故日期", "claim date", "accident date"),
    "amount": ("赔款金额", "赔付金额", "赔款", "理赔金额", "amount", "paid amount"),
    "claim_type": ("出险类型", "事故类型", "损失类型", "出险原因", "claim type", "type"),
    "order_no": ("工单号", "维修单号", "委托书号", "repair order", "order no"),
    "visit_date": ("进厂日期", "进厂时间", "到店日期", "visit date", "date in"),
    "out_date": ("出厂日期", "出厂时间", "交车日期", "date out"),
    "items": ("维修项目", "项目", "作业项目", "repair items", "items", "work"),
    "visit_kind": ("维修类型", "业务类型", "工单类型", "visit type", "kind"),
    "site": ("所属门店", "门店", "门店代码", "门店编码", "门店名称", "site", "store", "site code"),
}


def header_key(text: str) -> str:
    return _HEADER_NOISE.sub("", str(text)).lower()


_BY_HEADER = {header_key(alias): field for field, aliases in HEADERS.items() for alias in aliases}


def field_for(header: str) -> str | None:
    """The importer field a column header names, or None for a column the importer does not read."""
    return _BY_HEADER.get(header_key(header))


COVERAGE_NAMES: dict[str, str] = {
    "交强险": "compulsory",
    "车损险": "own_damage",
    "车辆损失险": "own_damage",
    "机动车损失保险": "own_damage",
    "三者险": "third_party",
    "第三者责任险": "third_party",
    "商业三者险": "third_party",
    "车上人员责任险": "passenger",
    "座位险": "passenger",
    "司机险": "passenger",
    "乘客险": "passenger",
    "盗抢险": "theft",
    "全车盗抢险": "theft",
    "玻璃险": "glass",
    "玻璃单独破碎险": "glass",
    "划痕险": "scratch",
    "车身划痕损失险": "scratch",
    "自燃险": "self_ignition",
    "自燃损失险": "self_ignition",
    "涉水险": "flood",
    "发动机涉水损失险": "flood",
    "不计免赔": "no_deductible",
    "不计免赔险": "no_deductible",
    "修理厂特约": "repair_at_dealer",
    "指定修理厂险": "repair_at_dealer",
    "道路救援": "roadside",
    "道路救援服务": "roadside",
}
CHANNEL_NAMES: dict[str, str] = {
    "本店": "dealer",
    "4s店": "dealer",
    "店内": "dealer",
    "dealer": "dealer",
    "电销": "insurer_direct",
    "直销": "insurer_direct",
    "保险公司直销": "insurer_direct",
    "insurer_direct": "insurer_direct",
    "网销": "online",
    "互联网": "online",
    "互联网平台": "online",
    "online": "online",
    "其他代理": "other_agent",
    "代理": "other_agent",
    "其他": "other_agent",
    "other_agent": "other_agent",
}
CLAIM_TYPES: dict[str, str] = {
    "玻璃": "glass",
    "玻璃破碎": "glass",
    "划痕": "scratch",
    "车身划痕": "scratch",
    "追尾": "rear_end",
    "追尾碰撞": "rear_end",
    "碰撞": "collision",
    "碰撞事故": "collision",
    "刮擦": "collision",
    "水淹": "flood",
    "涉水": "flood",
    "泡水": "flood",
    "底盘": "chassis",
    "底盘刮擦": "chassis",
    "盗抢": "theft",
    "被盗": "theft",
}
VISIT_KINDS: tuple[tuple[str, str], ...] = (
    ("保养", "maintenance"),
    ("首保", "maintenance"),
    ("钣", "bodywork"),
    ("喷漆", "bodywork"),
    ("事故", "bodywork"),
    ("保修", "warranty"),
    ("索赔", "warranty"),
    ("质保", "warranty"),
    ("召回", "warranty"),
    ("维修", "repair"),
    ("机修", "repair"),
)
"""Keyword → visit kind, first match wins (维修类型 or else 维修项目 is searched)."""
GENDERS: dict[str, str] = {
    "男": "M",
    "女": "F",
    "m": "M",
    "f": "F",
    "male": "M",
    "female": "F",
    "先生": "M",
    "女士": "F",
}
