/** A list answer: `{items, total, limit, offset}`, `total` counting every match. */
export interface Page<T> {
  items: T[];
  total: number;
  limit: number;
  offset: number;
}

/**
 * Every item from `offset` on, one page at a time (each page `fetchPage(offset)`),
 * stopping after `total` items or at an empty page. Offsets move under a list
 * that changes while it is read, as with any offset pagination.
 */
export async function* iteratePages<T>(
  fetchPage: (offset: number) => Promise<Page<T>>,
  offset = 0,
): AsyncGenerator<T, void, undefined> {
  for (;;) {
    const page = await fetchPage(offset);
    yield* page.items;
    offset = page.offset + page.items.length;
    if (page.items.length === 0 || offset >= page.total) {
      return;
    }
  }
}

/** A list operation's every item, from `query.offset` on, a page of `query.limit` at a time. */
export function iterateList<Q extends { offset?: number }, T>(
  list: (query: Q) => Promise<Page<T>>,
  query: Q,
): AsyncGenerator<T, void, undefined> {
  return iteratePages((offset) => list({ ...query, offset }), query.offset);
}
