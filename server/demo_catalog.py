"""Static catalogues behind the demo dataset: car models a Guangzhou Toyota/Honda/BYD 4S group
sells, Chinese names, mobile prefixes, plate regions, insurers, claim sizes and scenario weights.

Kept apart from `seed.py` so the generator reads as logic and the catalogue as data.
"""

from __future__ import annotations

from dataclasses import dataclass

from server.models import Channel


@dataclass(frozen=True)
class CarModel:
    brand: str
    model: str
    series: tuple[str, ...]
    price_class: str
    msrp_wan: float  # list price, 万元
    new_energy: bool
    large: bool
    weight: int
    claim_bias: tuple[str, ...]  # claim types this model sees more often


CATALOG: tuple[CarModel, ...] = (
    CarModel(
        "丰田",
        "凯美瑞",
        ("2.0E 精英版", "2.5G 豪华版", "双擎 2.5HQ 旗舰版"),
        "mid",
        20.0,
        False,
        False,
        14,
        ("scratch", "rear_end"),
    ),
    CarModel(
        "丰田",
        "雷凌",
        ("1.5L 进取版", "双擎 1.8H 豪华版"),
        "economy",
        12.0,
        False,
        False,
        12,
        ("scratch", "glass"),
    ),
    CarModel(
        "丰田",
        "卡罗拉",
        ("1.2T 精英版", "双擎 1.8 先锋版"),
        "economy",
        12.5,
        False,
        False,
        12,
        ("rear_end", "scratch"),
    ),
    CarModel(
        "丰田",
        "汉兰达",
        ("2.0T 四驱豪华版", "双擎 2.5 至尊版"),
        "premium",
        30.0,
        False,
        False,
        7,
        ("glass", "collision"),
    ),
    CarModel(
        "丰田",
        "RAV4荣放",
        ("2.0L 两驱都市版", "双擎 2.5 四驱精英版"),
        "mid",
        19.0,
        False,
        False,
        8,
        ("glass", "flood"),
    ),
    CarModel("丰田", "威兰达", ("2.0L 领先版",), "mid", 18.0, False, False, 4, ("scratch", "glass")),
    CarModel("丰田", "bZ4X", ("长续航 Pro",), "mid", 19.8, True, False, 2, ("chassis", "rear_end")),
    CarModel(
        "丰田", "柯斯达", ("4.0L 20座 豪华版",), "premium", 56.0, False, True, 4, ("collision", "glass")
    ),
    CarModel(
        "本田",
        "雅阁",
        ("260TURBO 精英版", "锐·混动 2.0L 尊贵版"),
        "mid",
        18.0,
        False,
        False,
        8,
        ("scratch", "rear_end"),
    ),
    CarModel("本田", "思域", ("240TURBO 劲动版",), "economy", 13.0, False, False, 6, ("rear_end", "scratch")),
    CarModel(
        "本田",
        "CR-V",
        ("240TURBO 两驱舒适版", "锐·混动 四驱尊耀版"),
        "mid",
        20.5,
        False,
        False,
        6,
        ("glass", "flood"),
    ),
    CarModel("本田", "缤智", ("1.5L 先锋版",), "economy", 11.0, False, False, 4, ("scratch", "glass")),
    CarModel("本田", "e:NP1 极湃1", ("510km 长续航版",), "mid", 17.5, True, False, 1, ("chassis", "scratch")),
    CarModel(
        "比亚迪", "汉", ("EV 创世版", "DM-i 尊贵型"), "premium", 22.0, True, False, 4, ("rear_end", "chassis")
    ),
    CarModel(
        "比亚迪", "秦PLUS", ("DM-i 55km 领先型",), "economy", 10.0, True, False, 6, ("scratch", "rear_end")
    ),
    CarModel("比亚迪", "宋PLUS", ("DM-i 110km 旗舰型",), "mid", 16.0, True, False, 5, ("glass", "chassis")),
    CarModel("比亚迪", "元PLUS", ("510km 领先型",), "economy", 14.0, True, False, 3, ("chassis", "scratch")),
    CarModel("比亚迪", "海豚", ("420km 活力版",), "economy", 10.5, True, False, 3, ("scratch", "rear_end")),
)
WMI = {"丰田": "LVG", "本田": "LHG", "比亚迪": "LGX"}

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗梁高郑谢宋唐许邓冯韩曹曾彭萧蔡潘田董袁"
MALE_GIVEN = "伟强军磊勇杰涛明超辉刚平斌健志国建华文俊浩鹏宇峰鑫波亮"
FEMALE_GIVEN = "芳娜敏静丽艳娟霞燕玲婷雪慧颖琳晶欣怡佳倩瑶梅莉红蓉"
MOBILE_PREFIXES = (
    "135",
    "136",
    "137",
    "138",
    "139",
    "150",
    "151",
    "152",
    "158",
    "159",
    "186",
    "187",
    "188",
    "189",
    "133",
    "177",
    "180",
    "181",
    "199",
    "130",
    "131",
    "132",
    "155",
    "156",
    "185",
)
GD_CITIES = (("A", "广州", 55), ("E", "佛山", 30), ("B", "深圳", 5), ("S", "东莞", 5), ("T", "中山", 5))
OTHER_PROVINCES = (("湘", 3), ("桂", 3), ("赣", 2), ("闽", 1.5), ("川", 1.5), ("鄂", 1))
INSURERS = (
    ("人保", "PDAA", 30),
    ("平安", "1050", 28),
    ("太保", "AGZZ", 20),
    ("国寿财", "8044", 12),
    ("大地", "DGZC", 10),
)
OTHER_CHANNELS = (Channel.INSURER_DIRECT, Channel.ONLINE, Channel.OTHER_AGENT)
CLAIM_AMOUNTS = {
    "glass": (800, 4500),
    "scratch": (500, 3000),
    "rear_end": (1500, 12000),
    "collision": (3000, 30000),
    "flood": (8000, 60000),
    "chassis": (2000, 15000),
}
SCENARIOS = (("new_first", 18), ("renewal", 42), ("service_only", 18), ("lapsed", 10), ("lost", 12))
VIN_CHARS = "0123456789ABCDEFGHJKLMNPRSTUVWXYZ"
