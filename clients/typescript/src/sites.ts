import { body, type Api } from "./http.js";
import { iterateList } from "./pages.js";
import type { components, operations } from "./schema.js";

export type Site = components["schemas"]["Site"];
export type SiteCreate = components["schemas"]["SiteCreate"];
export type SiteUpdate = components["schemas"]["SiteUpdate"];
export type SiteList = components["schemas"]["SiteList"];
export type CapabilityTier = components["schemas"]["CapabilityTier"];
/** `limit` (1 to 200, default 50) and `offset`. */
export type SiteListQuery = NonNullable<operations["listSites"]["parameters"]["query"]>;

/** The document's `sitesApi`, over `/api/sites`. Sites are ordered by name. */
export function sitesApi(api: Api) {
  const list = async (query: SiteListQuery = {}): Promise<SiteList> =>
    body(await api.GET("/api/sites", { params: { query } }));
  return {
    /** One page of the partner's sites. */
    list,
    /** Every site from `query.offset` on, a page of `query.limit` at a time. */
    iterate: (query: SiteListQuery = {}): AsyncGenerator<Site, void, undefined> =>
      iterateList(list, query),
    get: async (id: string): Promise<Site> =>
      body(await api.GET("/api/sites/{site_id}", { params: { path: { site_id: id } } })),
    /** Admins only; the name is unique within the partner (409 SITE_NAME_CONFLICT). */
    create: async (data: SiteCreate): Promise<Site> =>
      body(await api.POST("/api/sites", { body: data })),
    /** Renames the site or changes its tier (admins only). */
    update: async (id: string, data: SiteUpdate): Promise<Site> =>
      body(
        await api.PUT("/api/sites/{site_id}", { params: { path: { site_id: id } }, body: data }),
      ),
    /** Deletes the site and everything under it; revokes its agents (admins only). */
    delete: async (id: string): Promise<void> => {
      await api.DELETE("/api/sites/{site_id}", { params: { path: { site_id: id } } });
    },
  };
}

export type SitesApi = ReturnType<typeof sitesApi>;
