export { startStoreGateway, type StoreGateway, type StoreGatewayOptions } from "./server.ts";
export { ACCESS_KEY_ID_RE, type Authorize, type Grant } from "./grants.ts";
