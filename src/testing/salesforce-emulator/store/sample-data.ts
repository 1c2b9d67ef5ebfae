import type { EmulatorClock, OrgStore } from './org-store.js';

/**
 * The sample data a Developer Edition or scratch org (`"hasSampleData": true`) carries: the
 * accounts of the "Edge Communications … GenePoint" set with their contacts, opportunities,
 * leads and campaigns. Names, titles, account details and stages follow those orgs; close dates
 * are placed relative to the emulator clock (a real org's are fixed at org creation), and
 * amounts are the emulator's choice where they vary between orgs.
 */
const ACCOUNTS: Array<Record<string, unknown>> = [
  { Name: 'Edge Communications', Type: 'Customer - Direct', Industry: 'Electronics', Rating: 'Hot', Phone: '(512) 757-6000', Fax: '(512) 757-9000', BillingStreet: '312 Constitution Place\nAustin, TX 78767\nUSA', BillingCity: 'Austin', BillingState: 'TX', Website: 'http://edgecomm.com', AccountNumber: 'CD451796', Sic: '6576', AnnualRevenue: 139000000, NumberOfEmployees: 1000, Ownership: 'Public', TickerSymbol: 'EDGE', Description: 'Edge, founded in 1998, is a start-up based in Austin, TX. The company designs and manufactures a device to convert music from one digital format to another.' },
  { Name: 'Burlington Textiles Corp of America', Type: 'Customer - Direct', Industry: 'Apparel', Rating: 'Warm', Phone: '(336) 222-7000', Fax: '(336) 222-8000', BillingStreet: '525 S. Lexington Ave', BillingCity: 'Burlington', BillingState: 'NC', BillingPostalCode: '27215', BillingCountry: 'USA', Website: 'www.burlington.com', AccountNumber: 'CD656092', Sic: '546732', AnnualRevenue: 350000000, NumberOfEmployees: 9000, Ownership: 'Public', TickerSymbol: 'BTXT' },
  { Name: 'Pyramid Construction Inc.', Type: 'Customer - Channel', Industry: 'Construction', Phone: '(014) 427-4427', Fax: '(014) 427-4428', BillingStreet: '2 Place Jussieu', BillingCity: 'Paris', BillingPostalCode: '75251', BillingCountry: 'France', AccountNumber: 'CC213425', Sic: '4253', AnnualRevenue: 950000000, NumberOfEmployees: 2680, Ownership: 'Public', TickerSymbol: 'PYR' },
  { Name: 'Dickenson plc', Type: 'Customer - Channel', Industry: 'Consulting', Phone: '(785) 241-6200', Fax: '(785) 241-6201', BillingStreet: '1301 Hoch Drive', BillingCity: 'Lawrence', BillingState: 'KS', BillingPostalCode: '66045', BillingCountry: 'USA', Website: 'dickenson-consulting.com', AccountNumber: 'CC634267', Sic: '6752', AnnualRevenue: 50000000, NumberOfEmployees: 120, Ownership: 'Private' },
  { Name: 'Grand Hotels & Resorts Ltd', Type: 'Customer - Direct', Industry: 'Hospitality', Rating: 'Warm', Phone: '(312) 596-1000', Fax: '(312) 596-1500', BillingStreet: '2334 N. Michigan Avenue, Suite 1500\nChicago, IL 60601, USA', BillingCity: 'Chicago', BillingState: 'IL', Website: 'www.grandhotels.com', AccountNumber: 'CD439877', Sic: '2268', AnnualRevenue: 500000000, NumberOfEmployees: 5600, Ownership: 'Public', TickerSymbol: 'GHTL', Description: 'Chain of hotels and resorts across the US, UK, Eastern Europe, Japan, and SE Asia.' },
  { Name: 'United Oil & Gas Corp.', Type: 'Customer - Direct', Industry: 'Energy', Rating: 'Hot', Phone: '(212) 842-5500', Fax: '(212) 842-5501', BillingStreet: '1301 Avenue of the Americas \nNew York, NY 10019\nUSA', BillingCity: 'New York', BillingState: 'NY', Website: 'http://www.uos.com', AccountNumber: 'CD355118', Sic: '4437', AnnualRevenue: 5600000000, NumberOfEmployees: 145000, Ownership: 'Public', TickerSymbol: 'UOS', Description: 'World\'s third largest oil and gas company.' },
  { Name: 'Express Logistics and Transport', Type: 'Customer - Channel', Industry: 'Transportation', Rating: 'Cold', Phone: '(503) 421-7800', Fax: '(503) 421-7801', BillingStreet: '620 SW 5th Avenue Suite 400\nPortland, Oregon 97204\nUnited States', BillingCity: 'Portland', BillingState: 'OR', Website: 'www.expresslandt.net', AccountNumber: 'CC947211', Sic: '8742', AnnualRevenue: 950000000, NumberOfEmployees: 12300, Ownership: 'Public', TickerSymbol: 'EXLT', Description: 'Commerical logistics and transportation company.' },
  { Name: 'University of Arizona', Type: 'Customer - Direct', Industry: 'Education', Rating: 'Warm', Phone: '(520) 773-9050', Fax: '(520) 773-9060', BillingStreet: '888 N Euclid \nHallis Center, Room 501\nTucson, AZ 85721\nUnited States', BillingCity: 'Tucson', BillingState: 'AZ', AccountNumber: 'CD736025', Sic: '1884', NumberOfEmployees: 39000, Ownership: 'Other', Description: 'Leading university in AZ offering undergraduate and graduate programs in arts and humanities, pure sciences, engineering, business, and medicine.' },
  { Name: 'United Oil & Gas, UK', Parent: 'United Oil & Gas Corp.', Type: 'Customer - Direct', Industry: 'Energy', Phone: '+44 191 4956203', Fax: '+44 191 4956620', BillingStreet: 'Kings Park, 17th Avenue, Team Valley Trading Estate,\nGateshead, Tyne and Wear NE26 3HS\nUnited Kingdom', BillingState: 'UK', Website: 'http://www.uos.com', AccountNumber: 'CD355119-A', Sic: '4437', NumberOfEmployees: 24000, Ownership: 'Public', TickerSymbol: 'UOS' },
  { Name: 'United Oil & Gas, Singapore', Parent: 'United Oil & Gas Corp.', Type: 'Customer - Direct', Industry: 'Energy', Phone: '(650) 450-8810', Fax: '(650) 450-8820', BillingStreet: '9 Tagore Lane\nSingapore, Singapore 787472\nSingapore', BillingCity: 'Singapore', BillingState: 'Singapore', Website: 'http://www.uos.com', AccountNumber: 'CD355120-B', Sic: '4437', NumberOfEmployees: 3000, Ownership: 'Public', TickerSymbol: 'UOS' },
  { Name: 'GenePoint', Type: 'Customer - Channel', Industry: 'Biotechnology', Rating: 'Cold', Phone: '(650) 867-3450', Fax: '(650) 867-9895', BillingStreet: '345 Shoreline Park\nMountain View, CA 94043\nUSA', BillingCity: 'Mountain View', BillingState: 'CA', Website: 'www.genepoint.com', AccountNumber: 'CC978213', Sic: '3712', AnnualRevenue: 30000000, NumberOfEmployees: 265, Ownership: 'Private', Description: 'Genomics company engaged in mapping and sequencing of the human genome and developing gene-based drugs' },
  { Name: 'sForce', Phone: '(415) 901-7000', Fax: '(415) 901-7002', BillingStreet: 'The Landmark @ One Market', BillingCity: 'San Francisco', BillingState: 'CA', BillingPostalCode: '94087', BillingCountry: 'US', Website: 'www.sforce.com' },
];

/** [FirstName, LastName, Title, account name or '', email]. */
const CONTACTS: Array<[string, string, string, string, string]> = [
  ['Rose', 'Gonzalez', 'SVP, Procurement', 'Edge Communications', 'rose@edge.com'],
  ['Sean', 'Forbes', 'CFO', 'Edge Communications', 'sean@edge.com'],
  ['Jack', 'Rogers', 'VP, Facilities', 'Burlington Textiles Corp of America', 'jrogers@burlington.com'],
  ['Pat', 'Stumuller', 'SVP, Administration and Finance', 'Pyramid Construction Inc.', 'pat@pyramid.net'],
  ['Andy', 'Young', 'SVP, Operations', 'Dickenson plc', 'a_young@dickenson.com'],
  ['Tim', 'Barr', 'SVP, Administration and Finance', 'Grand Hotels & Resorts Ltd', 'barr_tim@grandhotels.com'],
  ['John', 'Bond', 'VP, Facilities', 'Grand Hotels & Resorts Ltd', 'bond_john@grandhotels.com'],
  ['Stella', 'Pavlova', 'SVP, Production', 'United Oil & Gas Corp.', 'spavlova@uog.com'],
  ['Lauren', 'Boyle', 'SVP, Technology', 'United Oil & Gas Corp.', 'lboyle@uog.com'],
  ['Babara', 'Levy', 'SVP, Operations', 'Express Logistics and Transport', 'b.levy@expresslandt.net'],
  ['Josh', 'Davis', 'Director, Warehouse Mgmt', 'Express Logistics and Transport', 'j.davis@expresslandt.net'],
  ['Jane', 'Grey', 'Dean of Administration', 'University of Arizona', 'jane_gray@uoa.edu'],
  ['Arthur', 'Song', 'CEO', 'United Oil & Gas Corp.', 'asong@uog.com'],
  ['Avi', 'Green', 'CFO', 'United Oil & Gas Corp.', 'agreen@uog.com'],
  ['Ashley', 'James', 'VP, Finance', 'United Oil & Gas, UK', 'ajames@uog.com'],
  ['Tom', 'Ripley', 'Regional General Manager', 'United Oil & Gas, Singapore', 'tripley@uog.com'],
  ['Liz', "D'Cruz", 'VP, Production', 'United Oil & Gas, Singapore', 'ldcruz@uog.com'],
  ['Edna', 'Frank', 'VP, Technology', 'GenePoint', 'efrank@genepoint.com'],
  ['Siddartha', 'Nedaerk', '', '', ''],
  ['Jake', 'Llorrac', '', '', ''],
];

/** [Name, account name, StageName, Amount, close date in days from now]. */
const OPPORTUNITIES: Array<[string, string, string, number, number]> = [
  ['Edge Emergency Generator', 'Edge Communications', 'Closed Won', 75000, -120],
  ['Edge Installation', 'Edge Communications', 'Closed Won', 50000, -90],
  ['Edge SLA', 'Edge Communications', 'Closed Won', 60000, -60],
  ['Edge Emergency Generator', 'Edge Communications', 'Id. Decision Makers', 35000, 30],
  ['Burlington Textiles Weaving Plant Generator', 'Burlington Textiles Corp of America', 'Closed Won', 235000, -45],
  ['Pyramid Emergency Generators', 'Pyramid Construction Inc.', 'Prospecting', 100000, 60],
  ['Dickenson Mobile Generators', 'Dickenson plc', 'Qualification', 15000, 45],
  ['Grand Hotels Kitchen Generator', 'Grand Hotels & Resorts Ltd', 'Id. Decision Makers', 15000, 20],
  ['Grand Hotels Emergency Generators', 'Grand Hotels & Resorts Ltd', 'Closed Won', 210000, -30],
  ['Grand Hotels Generator Installations', 'Grand Hotels & Resorts Ltd', 'Closed Won', 350000, -15],
  ['Grand Hotels SLA', 'Grand Hotels & Resorts Ltd', 'Closed Won', 90000, -10],
  ['United Oil Installations', 'United Oil & Gas Corp.', 'Negotiation/Review', 270000, 15],
  ['United Oil Installations', 'United Oil & Gas Corp.', 'Closed Won', 235000, -75],
  ['United Oil Installations', 'United Oil & Gas Corp.', 'Closed Lost', 675000, -100],
  ['United Oil Emergency Generators', 'United Oil & Gas Corp.', 'Closed Won', 440000, -20],
  ['United Oil Refinery Generators', 'United Oil & Gas Corp.', 'Proposal/Price Quote', 915000, 40],
  ['United Oil Office Portable Generators', 'United Oil & Gas Corp.', 'Negotiation/Review', 125000, 25],
  ['United Oil Plant Standby Generators', 'United Oil & Gas Corp.', 'Needs Analysis', 675000, 90],
  ['United Oil SLA', 'United Oil & Gas Corp.', 'Closed Won', 120000, -5],
  ['United Oil Standby Generators', 'United Oil & Gas Corp.', 'Closed Won', 120000, -50],
  ['Express Logistics Standby Generator', 'Express Logistics and Transport', 'Closed Won', 220000, -25],
  ['Express Logistics Portable Truck Generators', 'Express Logistics and Transport', 'Value Proposition', 80000, 35],
  ['Express Logistics SLA', 'Express Logistics and Transport', 'Perception Analysis', 120000, 50],
  ['University of AZ Installations', 'University of Arizona', 'Proposal/Price Quote', 100000, 55],
  ['University of AZ Portable Generators', 'University of Arizona', 'Closed Won', 50000, -35],
  ['University of AZ SLA', 'University of Arizona', 'Closed Won', 90000, -40],
  ['GenePoint Standby Generator', 'GenePoint', 'Closed Won', 85000, -55],
  ['GenePoint Lab Generators', 'GenePoint', 'Id. Decision Makers', 60000, 70],
  ['GenePoint SLA', 'GenePoint', 'Closed Won', 30000, -65],
  ['Dickenson Mobile Generators', 'Dickenson plc', 'Closed Lost', 15000, -80],
  ['Pyramid Emergency Generators', 'Pyramid Construction Inc.', 'Closed Won', 100000, -85],
];

/** [FirstName, LastName, Company, Title, Status, Rating, Industry]. */
const LEADS: Array<[string, string, string, string, string, string, string]> = [
  ['Bertha', 'Boxer', 'Farmers Coop. of Florida', 'Director of Vendor Relations', 'Working - Contacted', 'Hot', 'Agriculture'],
  ['Phyllis', 'Cotton', 'Abbott Insurance', 'CFO', 'Open - Not Contacted', 'Warm', 'Insurance'],
  ['Jeff', 'Glimpse', 'Jackson Controls', 'SVP, Procurement', 'Open - Not Contacted', 'Warm', 'Technology'],
  ['Mike', 'Braund', 'Metropolitan Health Services', 'SVP, Procurement', 'Open - Not Contacted', 'Warm', 'Healthcare'],
  ['Patricia', 'Feager', 'International Shipping', 'CEO', 'Working - Contacted', 'Warm', 'Shipping'],
  ['Brenda', 'Mcclure', 'Cadinal Inc.', 'CFO', 'Working - Contacted', 'Cold', 'Manufacturing'],
  ['Violet', 'Maccleod', 'Emerson Transport', 'VP, Technology', 'Working - Contacted', 'Warm', 'Transportation'],
  ['Kathy', 'Snyder', 'TNR Corp.', 'Regional General Manager', 'Working - Contacted', 'Hot', 'Technology'],
  ['Tom', 'James', 'Delphi Chemicals', 'SVP, Production', 'Working - Contacted', 'Warm', 'Chemicals'],
  ['Shelly', 'Brownell', 'Western Telecommunications Corp.', 'SVP, Technology', 'Working - Contacted', 'Warm', 'Communications'],
  ['Pamela', 'Owenby', 'Hendrickson Trading', 'SVP, Technology', 'Closed - Not Converted', 'Hot', 'Retail'],
  ['Chris', 'Eberhard', 'Highland Manufacturing Ltd.', 'SVP, Operations', 'Open - Not Contacted', 'Warm', 'Manufacturing'],
  ['Sandra', 'Eberhard', 'Highland Manufacturing Ltd.', 'VP, Production', 'Working - Contacted', 'Warm', 'Manufacturing'],
  ['David', 'Monaco', 'Blues Entertainment Corp.', 'CFO', 'Open - Not Contacted', 'Warm', 'Entertainment'],
  ['Carolyn', 'Crenshaw', 'Ace Iron and Steel Inc.', 'VP, Technology', 'Closed - Not Converted', 'Cold', 'Manufacturing'],
  ['Kristen', 'Akin', 'Aethna Home Products', 'Director, Warehouse Mgmt', 'Working - Contacted', 'Warm', 'Consulting'],
  ['Eugena', 'Luce', 'Pacific Retail Group', 'CEO', 'Open - Not Contacted', 'Cold', 'Retail'],
  ['Norm', 'May', 'Greenwich Media', 'VP, Technology', 'Working - Contacted', 'Warm', 'Media'],
];

const CAMPAIGNS: Array<Record<string, unknown>> = [
  { Name: 'GC Product Webinar - Jan 7, 2002', Type: 'Webinar', Status: 'Completed', IsActive: false },
  { Name: 'DM Campaign to Top Customers - Nov 12-23, 2001', Type: 'Direct Mail', Status: 'Completed', IsActive: false },
  { Name: 'International Electrical Engineers Association Trade Show - Mar 4-5, 2002', Type: 'Trade Show', Status: 'Completed', IsActive: false },
  { Name: 'User Conference - Jun 17-19, 2002', Type: 'Conference', Status: 'Planned', IsActive: true },
];

/**
 * Seeds the scratch-org sample data into an (empty) store.
 *
 * @throws {Error} when a sample record is refused (a bug in this data set).
 */
export function seedSampleData(store: OrgStore, clock: EmulatorClock): void {
  const check = (sobject: string, results: Array<{ success: boolean; id?: string; errors: unknown[] }>): string[] =>
    results.map((result, i) => {
      if (!result.success) throw new Error(`sample ${sobject} #${i} refused: ${JSON.stringify(result.errors)}`);
      return result.id as string;
    });
  const accountIds = new Map<string, string>();
  const roots = ACCOUNTS.filter((a) => a.Parent === undefined);
  check('Account', store.insert('Account', roots)).forEach((id, i) => accountIds.set(roots[i]?.Name as string, id));
  const children: Array<Record<string, unknown>> = ACCOUNTS.filter((a) => a.Parent !== undefined).map(
    ({ Parent, ...rest }) => ({ ...rest, ParentId: accountIds.get(Parent as string) }),
  );
  check('Account', store.insert('Account', children)).forEach((id, i) =>
    accountIds.set(children[i]?.Name as string, id),
  );
  check(
    'Contact',
    store.insert(
      'Contact',
      CONTACTS.map(([FirstName, LastName, Title, account, Email]) => ({
        FirstName,
        LastName,
        Title: Title || null,
        Email: Email || null,
        AccountId: account ? accountIds.get(account) : null,
      })),
    ),
  );
  const day = 24 * 60 * 60 * 1000;
  const now = clock.now().getTime();
  check(
    'Opportunity',
    store.insert(
      'Opportunity',
      OPPORTUNITIES.map(([Name, account, StageName, Amount, days]) => ({
        Name,
        AccountId: accountIds.get(account),
        StageName,
        Amount,
        CloseDate: new Date(now + days * day).toISOString().slice(0, 10),
      })),
    ),
  );
  check(
    'Lead',
    store.insert(
      'Lead',
      LEADS.map(([FirstName, LastName, Company, Title, Status, Rating, Industry]) => ({
        FirstName,
        LastName,
        Company,
        Title,
        Status,
        Rating,
        Industry,
      })),
    ),
  );
  check('Campaign', store.insert('Campaign', CAMPAIGNS));
}
