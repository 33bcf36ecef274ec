export { createComplianceClient } from "./client.js";
export type { ComplianceClient, ComplianceClientOptions } from "./client.js";
export { ApiError } from "./errors.js";
export type { ErrorCode, FieldError } from "./errors.js";
export type { Api, TokenSource } from "./http.js";
export { iteratePages } from "./pages.js";
export type { Page } from "./pages.js";
export type { AuthApi, CurrentSession, LoginRequest, LoginResponse, Role, User } from "./auth.js";
export type {
  CapabilityTier,
  Site,
  SiteCreate,
  SiteList,
  SiteListQuery,
  SitesApi,
  SiteUpdate,
} from "./sites.js";
export type {
  CheckType,
  Incident,
  IncidentDetail,
  IncidentList,
  IncidentQuery,
  IncidentResolve,
  IncidentsApi,
  Severity,
} from "./incidents.js";
export type { components, operations, paths } from "./schema.js";
