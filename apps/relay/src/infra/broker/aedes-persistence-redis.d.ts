// aedes-persistence-redis ships no type declarations; Aedes takes its persistence as `any`.
declare module 'aedes-persistence-redis' {
  import type { Redis } from 'ioredis';
  function persistence(options: { conn: Redis; maxSessionDelivery?: number }): unknown;
  export default persistence;
}
