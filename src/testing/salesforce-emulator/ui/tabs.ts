import type { OrgStore } from '../store/org-store.js';
import type { ObjectSchema } from '../store/schema.js';

/** Objects with a tab in a new org's standard apps, in tab order. */
const TAB_OBJECTS = ['Account', 'Contact', 'Lead', 'Opportunity', 'Campaign', 'Task', 'User', 'Individual'];
/** Lightning (theme4) colours of the standard object icons. */
const COLORS: Readonly<Record<string, string>> = {
  Account: '7F8DE1',
  Contact: 'A094ED',
  Lead: 'F88962',
  Opportunity: 'FCB95B',
  Campaign: 'F49756',
  Task: '4BC076',
  User: '65CAE4',
  Individual: '62B7ED',
};

/** A tab or theme `colors` entry list. */
export function themeColors(name: string): Array<{ color: string; context: string; theme: string }> {
  return [{ color: COLORS[name] ?? '9602C7', context: 'primary', theme: 'theme4' }];
}

/** An icon entry (`svg` has no fixed size, reported as 0×0). */
export function tabIcon(baseUrl: string, name: string, size: number, type: 'svg' | 'png') {
  return {
    contentType: type === 'svg' ? 'image/svg+xml' : 'image/png',
    height: type === 'svg' ? 0 : size,
    theme: 'theme4',
    url: `${baseUrl}/img/icon/t4v35/standard/${name.toLowerCase()}${type === 'svg' ? '.svg' : `_${size}.png`}`,
    width: type === 'svg' ? 0 : size,
  };
}

/** The emulated objects that have a tab. */
export function tabObjects(store: OrgStore): ObjectSchema[] {
  return TAB_OBJECTS.map((name) => store.schema(name)).filter((s): s is ObjectSchema => s !== undefined);
}

/** One standard tab per object, as REST `/tabs` and SOAP `describeTabs` describe them. */
export function standardTabs(store: OrgStore, baseUrl: string): Array<Record<string, unknown>> {
  return tabObjects(store).map((schema) => ({
    colors: themeColors(schema.name),
    custom: false,
    iconUrl: tabIcon(baseUrl, schema.name, 32, 'png').url,
    icons: [tabIcon(baseUrl, schema.name, 0, 'svg'), tabIcon(baseUrl, schema.name, 60, 'png')],
    label: schema.labelPlural,
    miniIconUrl: tabIcon(baseUrl, schema.name, 16, 'png').url,
    name: `standard-${schema.name}`,
    sobjectName: schema.name,
    url: `${baseUrl}/${schema.keyPrefix}/o`,
  }));
}
