from litestar.testing import AsyncTestClient


async def test_health_answers_without_credentials(client: AsyncTestClient) -> None:
    response = await client.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_ready_reports_database_and_schema(client: AsyncTestClient) -> None:
    response = await client.get("/ready")
    assert response.status_code == 200
    assert response.json()["database"] == "ok"
