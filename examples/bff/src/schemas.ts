import { z } from 'zod';

/**
 * The shapes the BFF serves. Each cache bucket parses its values with one of them on the way in
 * and on the way out: an entry written by an older version that no longer parses is a counted
 * miss and is refetched, never a 500.
 */

export const orderSummarySchema = z.object({
  id: z.string(),
  accountId: z.string(),
  orderNumber: z.string(),
  status: z.enum(['Draft', 'Activated', 'Shipped', 'Cancelled']),
  totalAmount: z.number(),
  currency: z.string(),
  effectiveDate: z.string(),
});
export type OrderSummary = z.infer<typeof orderSummarySchema>;

export const orderLineSchema = z.object({
  productId: z.string(),
  quantity: z.number().int(),
  unitPrice: z.number(),
});

export const orderDetailSchema = orderSummarySchema.extend({
  billingCity: z.string(),
  lines: z.array(orderLineSchema),
});
export type OrderDetail = z.infer<typeof orderDetailSchema>;

export const productSchema = z.object({
  id: z.string(),
  name: z.string(),
  family: z.string(),
  unitPrice: z.number(),
  currency: z.string(),
  active: z.boolean(),
});
export type Product = z.infer<typeof productSchema>;

export const bundleSchema = z.object({
  id: z.string(),
  name: z.string(),
  items: z.array(z.object({ product: productSchema, quantity: z.number().int() })).min(1),
  totalPrice: z.number(),
  currency: z.string(),
});
export type Bundle = z.infer<typeof bundleSchema>;

export const invoiceSchema = z.object({
  id: z.number().int(),
  clientId: z.number().int(),
  invoiceNumber: z.string(),
  date: z.string(),
  dueDate: z.string(),
  total: z.number(),
  currency: z.string(),
  status: z.enum(['Paid', 'Unpaid', 'Overdue', 'Cancelled']),
});
export type Invoice = z.infer<typeof invoiceSchema>;

export const availabilitySchema = z.object({
  productId: z.string(),
  inStock: z.boolean(),
  quantity: z.number().int(),
  listPrice: z.number(),
  currency: z.string(),
  asOf: z.string(),
});
export type Availability = z.infer<typeof availabilitySchema>;
