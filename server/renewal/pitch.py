"""What the advisor says: talking points for this customer and replies to the usual objections.

The customer type decides the angle (DOMAIN: price-sensitive → steer away from price to small
incentives and service; service-sensitive → spell out the service; indifferent → state
everything clearly and offer a concession to close). Every text is zh-CN with an English fallback.
"""

from __future__ import annotations

from dataclasses import dataclass

from server.renewal.facts import Label, PolicyFacts
from server.renewal.grading import CustomerType
from server.renewal.pricing import DEDUCTIBLE_DISCOUNTS, PremiumEstimate
from server.renewal.segments import Segment

OFFERED_DEDUCTIBLE = 1000
"""The deductible (元) suggested to a claim-averse customer when talking price."""


@dataclass(frozen=True)
class Objection:
    """One objection a customer raises, and the reply that fits this customer."""

    key: str
    objection: Label
    reply: Label

    def as_dict(self) -> dict[str, object]:
        return {"key": self.key, "objection": self.objection.as_dict(), "reply": self.reply.as_dict()}


def _daily(premium: float) -> Label:
    daily = premium / 365
    return Label(f"每天约 {daily:.1f} 元即可获得全年保障", f"Cover costs about {daily:.1f} 元 a day")


def talking_points(
    seg: Segment,
    *,
    days: int | None,
    latest: PolicyFacts | None,
    claims_last_year: int,
    serviced_here: bool,
    customer_type: CustomerType = CustomerType.INDIFFERENT,
    estimate: PremiumEstimate | None = None,
    claim_free_years: int = 0,
) -> list[Label]:
    """Short points for the advisor's conversation, using the playbook's pricing levers."""
    points: list[Label] = []
    if latest is not None and latest.ncd_factor < 1.0:
        points.append(
            Label(
                f"无赔款优待系数 {latest.ncd_factor:.2f}：连续无出险，续保保费更低",
                f"No-claim discount factor {latest.ncd_factor:.2f}: claim-free years keep the premium low",
            )
        )
    if claims_last_year >= 2:
        ncd = f" {estimate.ncd_next:.2f}" if estimate is not None else ""
        points.append(
            Label(
                f"去年出险 {claims_last_year} 次，NCD 系数上调{ncd}：提前说明保费变化，建议保留车损险",
                f"{claims_last_year} claims last year raise the NCD factor{ncd}: explain the change early, "
                "keep own-damage cover",
            )
        )
    if claim_free_years >= 3 and estimate is not None:
        # claim-averse customers lose little by an absolute deductible (DOMAIN: pricing levers)
        points.append(
            Label(
                f"连续 {claim_free_years} 年未出险：可选 {OFFERED_DEDUCTIBLE} 元绝对免赔额，车损保费再降约 "
                f"{DEDUCTIBLE_DISCOUNTS[OFFERED_DEDUCTIBLE]:.0%}",
                f"{claim_free_years} claim-free years: a {OFFERED_DEDUCTIBLE} 元 absolute deductible cuts "
                f"the own-damage premium by about {DEDUCTIBLE_DISCOUNTS[OFFERED_DEDUCTIBLE]:.0%}",
            )
        )
    premium = estimate.premium if estimate is not None else latest.premium if latest is not None else 0.0
    if premium > 0:
        points.append(_daily(premium))
    if customer_type is CustomerType.PRICE:
        points.append(
            Label(
                "少谈价格，多谈本店续保礼包：免费保养、洗车、道路救援，理赔直赔不垫付",
                "Steer away from price: renewal gift pack (free service, car wash, roadside) and direct claims",
            )
        )
    elif customer_type is CustomerType.SERVICE:
        points.append(
            Label(
                "讲清服务：出险 10 分钟专员响应，本店原厂配件维修，修理厂特约，理赔全程代办",
                "Spell out the service: 10-minute claim response, genuine parts here, dealer repair, "
                "claims handled for you",
            )
        )
    else:
        points.append(
            Label(
                "逐项讲清保障与保费，今日办理赠送洗车券促成",
                "State cover and price item by item; a car-wash voucher for signing today closes it",
            )
        )
    if seg is Segment.SERVICE_ONLY and serviced_here:
        points.append(
            Label(
                "常在本店保养：本店续保可直赔、修理厂特约、理赔专员 10 分钟响应",
                "Services here: insure here too for direct claims, dealer repairs, 10-minute claim response",
            )
        )
    if seg is Segment.LAPSED:
        points.append(
            Label("无保上路风险大，可当天出单生效", "Driving uninsured is risky: cover can start today")
        )
    if days is not None and 0 <= days <= 30:
        points.append(
            Label(
                "续保赠送：免费保养一次 + 洗车 + 道路救援",
                "Renewal gift: free service, car wash and roadside assistance",
            )
        )
    return points


def objection_replies(
    seg: Segment,
    *,
    customer_type: CustomerType,
    estimate: PremiumEstimate | None,
    days: int | None,
    claim_free_years: int = 0,
) -> list[Objection]:
    """Replies to the objections advisors hear most, filled in for this customer, most likely first."""
    daily = (
        _daily(estimate.premium)
        if estimate is not None
        else Label("按天算保费其实不高", "Per day the cover is cheap")
    )
    deductible = (
        Label(
            f"您连续 {claim_free_years} 年没出险，加 {OFFERED_DEDUCTIBLE} 元免赔额还能再省一些",
            f"After {claim_free_years} claim-free years, a {OFFERED_DEDUCTIBLE} 元 deductible saves more",
        )
        if claim_free_years >= 3
        else Label(
            "也可以调整险种组合，保留最需要的保障", "We can also trim the package and keep the cover you need"
        )
    )
    too_expensive = Objection(
        "too_expensive",
        Label("太贵了", "It's too expensive"),
        Label(f"{daily.zh}。{deductible.zh}。", f"{daily.en}. {deductible.en}."),
    )
    cheaper = Objection(
        "cheaper_elsewhere",
        Label("别家报价更便宜", "Another quote is cheaper"),
        Label(
            "我们逐项对比一下险种和保额；在本店续保，出险直赔、原厂配件修、专员 10 分钟响应，这些别家给不了",
            "Let's compare cover item by item; insuring here brings direct claims, genuine-part repairs "
            "and a 10-minute claim response",
        ),
    )
    think = Objection(
        "think_about_it",
        Label("我再考虑一下", "I'll think about it"),
        Label(
            f"可以先把方案定下来，起保日期接在 {days} 天后到期日，不会重复交费；今天办理礼包还在"
            if days is not None and days > 0
            else "保障断一天风险就多一天，今天办理礼包还在",
            f"We can fix the package now with cover starting when the current one ends in {days} days "
            "— no double payment; today's gift pack still applies"
            if days is not None and days > 0
            else "Every uninsured day is a risk; today's gift pack still applies",
        ),
    )
    online = Objection(
        "buy_online",
        Label("我自己网上买", "I'll buy it online myself"),
        Label(
            "价格和网上一致，在本店买多了出险协助、代办理赔和续保礼包",
            "Same price as online, plus claim help, claims handled for you and the renewal gift pack",
        ),
    )
    claims = Objection(
        "claims_hassle",
        Label("上次理赔很麻烦", "Last claim was a hassle"),
        Label(
            "在本店投保，出险后专员 10 分钟内联系您，车直接进本店维修，理赔我们代办",
            "Insured here, a specialist calls within 10 minutes, the car is repaired here and we handle the claim",
        ),
    )
    order = {
        CustomerType.PRICE: [too_expensive, cheaper, online, think, claims],
        CustomerType.SERVICE: [claims, cheaper, think, too_expensive, online],
        CustomerType.INDIFFERENT: [think, too_expensive, cheaper, online, claims],
    }[customer_type]
    if seg is Segment.SERVICE_ONLY:  # insured elsewhere: the rival quote comes up first
        order.remove(cheaper)
        order.insert(0, cheaper)
    return order
