export { AppError, ERROR_STATUS, type ErrorCode } from './app-error';
export { requestContext, notFound, errorHandler, requireJson, limitJsonDepth, rejectUnsafeText, requireDependency, uuidParam, RETRY_AFTER_SECONDS } from './middleware';
export { isDependencyUnavailable } from './dependency-error';
export { httpMetrics, metricsRoute } from './http-metrics';
export { buildOpenApiDocument, jsonSchemaOf, errorBodySchema, type OpenApiRoute, type OpenApiResponse } from './openapi';
export { ApiKeySet, requireApiKey, warnWhenOpen, type ApiKeyAuthOptions } from './api-key-auth';
export { checkReadiness, withinMs, READINESS_TIMEOUT_MS, type Readiness, type ReadinessProbe } from './readiness';
