/** One column of a report type: its report API name, label, data type and the SOQL path behind it. */
export interface ReportColumn {
  name: string;
  label: string;
  dataType: 'string' | 'email' | 'picklist' | 'phone' | 'textarea' | 'datetime';
  path: string;
}

/** A report type: the object it reports on and its columns. */
export interface ReportType {
  type: string;
  label: string;
  sobject: string;
  columns: ReportColumn[];
}

/**
 * The report types the emulator runs: `LeadList` ("Leads"), with the column API names the Reports
 * and Dashboards REST API uses for it (`OWNER`, `COMPANY`, `CREATED_DATE`, …).
 */
export const REPORT_TYPES: readonly ReportType[] = [
  {
    type: 'LeadList',
    label: 'Leads',
    sobject: 'Lead',
    columns: [
      { name: 'OWNER', label: 'Lead Owner', dataType: 'string', path: 'Owner.Name' },
      { name: 'FIRST_NAME', label: 'First Name', dataType: 'string', path: 'FirstName' },
      { name: 'LAST_NAME', label: 'Last Name', dataType: 'string', path: 'LastName' },
      { name: 'TITLE', label: 'Title', dataType: 'string', path: 'Title' },
      { name: 'COMPANY', label: 'Company / Account', dataType: 'string', path: 'Company' },
      { name: 'EMAIL', label: 'Email', dataType: 'email', path: 'Email' },
      { name: 'PHONE', label: 'Phone', dataType: 'phone', path: 'Phone' },
      { name: 'LEAD_SOURCE', label: 'Lead Source', dataType: 'picklist', path: 'LeadSource' },
      { name: 'RATING', label: 'Rating', dataType: 'picklist', path: 'Rating' },
      { name: 'STATUS', label: 'Lead Status', dataType: 'picklist', path: 'Status' },
      { name: 'INDUSTRY', label: 'Industry', dataType: 'picklist', path: 'Industry' },
      { name: 'STREET', label: 'Street', dataType: 'textarea', path: 'Street' },
      { name: 'CITY', label: 'City', dataType: 'string', path: 'City' },
      { name: 'STATE', label: 'State/Province', dataType: 'string', path: 'State' },
      { name: 'COUNTRY', label: 'Country', dataType: 'string', path: 'Country' },
      { name: 'CREATED_DATE', label: 'Create Date', dataType: 'datetime', path: 'CreatedDate' },
    ],
  },
];
