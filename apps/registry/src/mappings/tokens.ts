/** Injection token of the registry's pino logger. */
export const REGISTRY_LOGGER = Symbol('REGISTRY_LOGGER');
