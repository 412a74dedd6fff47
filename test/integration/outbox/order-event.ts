/** The event the outbox tests and the benchmark write: an order placed, with a decimal amount. */
export const ORDER_EVENT = {
  type: "record",
  name: "OrderPlaced",
  namespace: "shop.events",
  fields: [
    { name: "orderId", type: "long" },
    { name: "seq", type: "int" },
    { name: "amount", type: { type: "bytes", logicalType: "decimal", precision: 10, scale: 2 } },
    { name: "note", type: ["null", "string"], default: null },
  ],
};
