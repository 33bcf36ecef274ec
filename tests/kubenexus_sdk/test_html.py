"""What a notebook shows of a page of KubeNexus clusters, from the emulator:
where the page stands in the list, and its items."""

from __future__ import annotations

from kubenexus_sdk import KubeNexusClient
from tests.html_support import read_html


def test_pages_of_clusters_say_where_they_stand(kubenexus_client: KubeNexusClient) -> None:
    pages = list(kubenexus_client.clusters.list(limit=3).iter_pages())
    rendered = [read_html(page._repr_html_()).tables[0] for page in pages]
    assert [t.caption for t in rendered] == [
        "SyncPage: page 1 of 3, 3 on this page, 7 in all, has more",
        "SyncPage: page 2 of 3, 3 on this page, 7 in all, has more",
        "SyncPage: page 3 of 3, 1 on this page, 7 in all, last page",
    ]
    names = [row[rendered[0].headers.index("name")] for t in rendered for row in t.rows]
    assert names == [f"prod-0{i}" for i in range(1, 8)]
    assert {"id", "name", "status", "region"} <= set(rendered[0].headers)
