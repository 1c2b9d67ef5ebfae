import type { EmulatorRecord, ObjectSchema, ResolvedField } from './schema.js';

/** An address compound field's value as the REST API returns it. */
export interface AddressValue {
  city: unknown;
  country: unknown;
  geocodeAccuracy: unknown;
  latitude: unknown;
  longitude: unknown;
  postalCode: unknown;
  state: unknown;
  street: unknown;
}

/**
 * Reads a field from a stored row. A compound address is assembled from its components
 * ("Compound Fields": an `Address` object with street, city, state, postalCode, country,
 * latitude, longitude, geocodeAccuracy); it is `null` when every component is null, as an org
 * returns it.
 */
export function readField(schema: ObjectSchema, field: ResolvedField, row: EmulatorRecord): unknown {
  if (field.type !== 'address') return row[field.name] ?? null;
  const prefix = field.name.slice(0, -'Address'.length);
  const part = (name: string) =>
    schema.field(`${prefix}${name}`) ? (row[`${prefix}${name}`] ?? null) : null;
  const value: AddressValue = {
    city: part('City'),
    country: part('Country'),
    geocodeAccuracy: part('GeocodeAccuracy'),
    latitude: part('Latitude'),
    longitude: part('Longitude'),
    postalCode: part('PostalCode'),
    state: part('State'),
    street: part('Street'),
  };
  return Object.values(value).every((v) => v === null) ? null : value;
}
