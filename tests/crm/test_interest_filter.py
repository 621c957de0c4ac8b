"""`crm.access.interest_filter` (a manager sees the deals they are responsible for and the
deals of the clients they are responsible for) gives the same deals written as a set of the
manager's client ids, as a join to the clients (the rule's plain statement), and with one
client's row given (`client=`), for every user and client, merged-away clients included."""

from __future__ import annotations

from tortoise.expressions import Q

from crm import deals
from crm.access import interest_filter
from crm.models import Client, Interest, User
from tests.crm import factories


async def test_the_forms_of_the_rule_agree(db: object) -> None:
    await factories.scenario(require_next_step=False)
    admin = await factories.admin()
    anna, boris, vera = [await factories.manager() for _ in range(3)]
    people: list[User] = [admin, anna, boris, vera]
    clients = [
        await factories.client(admin, name=f"Клиент {n}", responsible_id=owner)
        for n, owner in enumerate([anna.id, anna.id, boris.id, None])
    ]
    for client in clients:
        for person in (anna, boris, None):
            await deals.create_interest(
                actor=admin,
                client_id=client.id,
                title="Сделка",
                responsible_id=person.id if person else None,
            )
    await Client.filter(id=clients[1].id).update(merged_into_id=clients[0].id)  # merged away
    for user in people:
        plain = Q()
        if user.role.value == "manager":
            plain = Q(responsible_id=user.id) | Q(client__responsible_id=user.id)
        wanted = set(await Interest.filter(plain).values_list("id", flat=True))
        found = set(await Interest.filter(await interest_filter(user)).values_list("id", flat=True))
        assert found == wanted, user.email
        for client in await Client.all():
            one = set(
                await Interest.filter(
                    await interest_filter(user, client=client), client_id=client.id
                ).values_list("id", flat=True)
            )
            assert one == {i for i in wanted if i in await _deals_of(client)}, (user.email, client)


async def _deals_of(client: Client) -> set[int]:
    return set(await Interest.filter(client_id=client.id).values_list("id", flat=True))
