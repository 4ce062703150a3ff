export { AppError, ERROR_STATUS, type ErrorCode } from './app-error';
export { requestContext, notFound, errorHandler, requireJson, uuidParam } from './middleware';
