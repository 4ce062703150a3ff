import { parseCatalog, type Catalog, type CatalogColumn, type CatalogTable } from '@catalog-indexer/catalog';
import { syntheticCatalog } from './synthetic-catalog';

/**
 * A held-out evaluation set written for this project, outside `../shared`: a clinic's database (care,
 * billing and operations, 17 tables) among 240 synthetic distractor tables, and questions phrased as a
 * user would ask them, mostly in words other than the identifiers. The retrieval method was never tuned on
 * it; it checks that what works on Spider is not fitted to Spider.
 */

type Column = [name: string, type: string, description?: string];

type ForeignKey = NonNullable<CatalogTable['foreignKeys']>[number];

/** A table with an integer primary key `id`, then `list`. */
function table(name: string, description: string, list: Column[], foreignKeys?: ForeignKey[]): CatalogTable {
  const columns: CatalogColumn[] = [
    { name: 'id', type: 'integer', primaryKey: true },
    ...list.map(([column, type, note]) => ({ name: column, type, primaryKey: false, ...(note ? { description: note } : {}) })),
  ];
  return { name, type: 'table', description, columns, ...(foreignKeys ? { foreignKeys } : {}) };
}
const fk = (column: string, schema: string, table: string): ForeignKey => ({ columns: [column], references: { schema, table, columns: ['id'] } });

const care: CatalogTable[] = [
  table(
    'patients',
    'People registered with the clinic.',
    [
      ['full_name', 'text'],
      ['birth_date', 'date'],
      ['sex', 'char(1)'],
      ['postcode', 'text', 'Home postcode.'],
      ['registered_on', 'date'],
    ],
  ),
  table(
    'departments',
    'Clinical departments such as cardiology or paediatrics.',
    [['name', 'text'], ['floor', 'integer']],
  ),
  table(
    'practitioners',
    'Doctors and nurses who see patients.',
    [
      ['full_name', 'text'],
      ['role', 'text', "'doctor' or 'nurse'."],
      ['department_id', 'integer'],
      ['hired_on', 'date'],
    ],
    [fk('department_id', 'care', 'departments')],
  ),
  table(
    'appointments',
    'Visits booked by patients with a practitioner.',
    [
      ['patient_id', 'integer'],
      ['practitioner_id', 'integer'],
      ['room_id', 'integer'],
      ['starts_at', 'timestamptz'],
      ['status', 'text', "'booked', 'attended', 'cancelled' or 'no_show'."],
    ],
    [
      fk('patient_id', 'care', 'patients'),
      fk('practitioner_id', 'care', 'practitioners'),
      fk('room_id', 'ops', 'rooms'),
    ],
  ),
  table(
    'diagnoses',
    'Conditions recorded during an appointment, coded in ICD-10.',
    [['appointment_id', 'integer'], ['icd10_code', 'text'], ['description', 'text']],
    [fk('appointment_id', 'care', 'appointments')],
  ),
  table(
    'medications',
    'Drugs the clinic can prescribe.',
    [
      ['name', 'text'],
      ['strength_mg', 'numeric'],
      ['controlled', 'boolean', 'Whether it is a controlled substance.'],
    ],
  ),
  table(
    'prescriptions',
    'Medications prescribed to a patient at an appointment.',
    [
      ['appointment_id', 'integer'],
      ['medication_id', 'integer'],
      ['dose_per_day', 'integer'],
      ['days', 'integer'],
    ],
    [fk('appointment_id', 'care', 'appointments'), fk('medication_id', 'care', 'medications')],
  ),
  table(
    'lab_results',
    'Blood tests and other laboratory results of patients.',
    [
      ['patient_id', 'integer'],
      ['test_name', 'text'],
      ['value', 'numeric'],
      ['unit', 'text'],
      ['taken_at', 'timestamptz'],
    ],
    [fk('patient_id', 'care', 'patients')],
  ),
];

const billing: CatalogTable[] = [
  table('insurers', 'Health insurance companies.', [['name', 'text'], ['country', 'text']]),
  table(
    'policies',
    "A patient's insurance cover.",
    [['patient_id', 'integer'], ['insurer_id', 'integer'], ['valid_from', 'date'], ['valid_to', 'date']],
    [fk('patient_id', 'care', 'patients'), fk('insurer_id', 'billing', 'insurers')],
  ),
  table(
    'invoices',
    'Bills sent for appointments.',
    [
      ['appointment_id', 'integer'],
      ['policy_id', 'integer'],
      ['issued_on', 'date'],
      ['total_amount', 'numeric(10,2)'],
    ],
    [fk('appointment_id', 'care', 'appointments'), fk('policy_id', 'billing', 'policies')],
  ),
  table(
    'invoice_lines',
    'The billed items of an invoice.',
    [['invoice_id', 'integer'], ['item', 'text'], ['amount', 'numeric(10,2)']],
    [fk('invoice_id', 'billing', 'invoices')],
  ),
  table(
    'payments',
    'Money received against invoices, from patients or insurers.',
    [
      ['invoice_id', 'integer'],
      ['paid_on', 'date'],
      ['amount', 'numeric(10,2)'],
      ['payer', 'text', "'patient' or 'insurer'."],
    ],
    [fk('invoice_id', 'billing', 'invoices')],
  ),
];

const ops: CatalogTable[] = [
  table(
    'rooms',
    'Consulting and treatment rooms.',
    [['code', 'text'], ['department_id', 'integer'], ['capacity', 'integer']],
    [fk('department_id', 'care', 'departments')],
  ),
  table(
    'shifts',
    'Work shifts of practitioners.',
    [['practitioner_id', 'integer'], ['starts_at', 'timestamptz'], ['ends_at', 'timestamptz']],
    [fk('practitioner_id', 'care', 'practitioners')],
  ),
  table(
    'supplies',
    'Consumables such as gloves, syringes and bandages.',
    [['name', 'text'], ['unit_cost', 'numeric(8,2)'], ['reorder_level', 'integer']],
  ),
  table(
    'stock_movements',
    'Supplies received into or used from a room.',
    [
      ['supply_id', 'integer'],
      ['room_id', 'integer'],
      ['quantity', 'integer', 'Positive when received, negative when used.'],
      ['moved_at', 'timestamptz'],
    ],
    [fk('supply_id', 'ops', 'supplies'), fk('room_id', 'ops', 'rooms')],
  ),
];

/** A held-out question and the tables (`schema.table`) a correct SQL query reads. */
export interface HeldOutQuestion {
  question: string;
  tables: string[];
}

export const HELDOUT_QUESTIONS: HeldOutQuestion[] = [
  { question: 'How many people signed up with the clinic this year?', tables: ['care.patients'] },
  { question: 'Which doctors had the most visits last month?', tables: ['care.appointments', 'care.practitioners'] },
  { question: 'What share of bookings ended as no-shows?', tables: ['care.appointments'] },
  { question: 'List the nurses working in cardiology.', tables: ['care.practitioners', 'care.departments'] },
  { question: 'Which conditions were diagnosed most often in children?', tables: ['care.diagnoses', 'care.appointments', 'care.patients'] },
  { question: 'Which drugs are prescribed the most?', tables: ['care.prescriptions', 'care.medications'] },
  { question: 'How many controlled substances were prescribed per practitioner?', tables: ['care.prescriptions', 'care.medications', 'care.appointments', 'care.practitioners'] },
  { question: 'Average cholesterol test value by sex', tables: ['care.lab_results', 'care.patients'] },
  { question: 'Which insurance companies cover the most patients?', tables: ['billing.policies', 'billing.insurers'] },
  { question: 'Total billed per month', tables: ['billing.invoices'] },
  { question: 'Which bills are still unpaid?', tables: ['billing.invoices', 'billing.payments'] },
  { question: 'How much did insurers pay us last quarter?', tables: ['billing.payments'] },
  { question: 'What items appear most on invoices?', tables: ['billing.invoice_lines'] },
  { question: 'Revenue per department', tables: ['billing.invoices', 'care.appointments', 'care.practitioners', 'care.departments'] },
  { question: 'Which rooms are used the most for appointments?', tables: ['care.appointments', 'ops.rooms'] },
  { question: 'How many hours did each nurse work last week?', tables: ['ops.shifts', 'care.practitioners'] },
  { question: 'Which supplies are below their reorder level?', tables: ['ops.supplies', 'ops.stock_movements'] },
  { question: 'How many gloves were used in each room?', tables: ['ops.stock_movements', 'ops.supplies', 'ops.rooms'] },
  { question: 'What did consumables cost per department?', tables: ['ops.stock_movements', 'ops.supplies', 'ops.rooms', 'care.departments'] },
  { question: 'Patients without any insurance policy', tables: ['care.patients', 'billing.policies'] },
  { question: 'Which patients saw more than three different doctors?', tables: ['care.appointments'] },
  { question: 'Cancelled visits per weekday', tables: ['care.appointments'] },
  { question: 'Which doctors prescribe antibiotics most often?', tables: ['care.prescriptions', 'care.medications', 'care.appointments', 'care.practitioners'] },
  { question: 'Average invoice amount by insurer', tables: ['billing.invoices', 'billing.policies', 'billing.insurers'] },
  { question: 'Which departments are on the second floor?', tables: ['care.departments'] },
  { question: 'Staff hired in the last two years', tables: ['care.practitioners'] },
  { question: 'Patients with a blood test result above the normal range in the last week', tables: ['care.lab_results', 'care.patients'] },
  { question: 'How long are prescriptions on average, in days?', tables: ['care.prescriptions'] },
  { question: 'Which postcodes do most of our patients live in?', tables: ['care.patients'] },
  { question: 'Payments received from patients versus insurers per month', tables: ['billing.payments'] },
];

/** The clinic's schemas among synthetic distractors (12 schemas of 20 tables of 12 columns). */
export function heldOutCatalog(): Catalog {
  const distractors = syntheticCatalog(12, 20, 12, 23);
  return parseCatalog({
    name: 'clinic',
    description: 'A clinic database among unrelated synthetic schemas, for the held-out retrieval evaluation.',
    schemas: [
      { name: 'care', description: 'Patients, practitioners, appointments and clinical records.', tables: care },
      { name: 'billing', description: 'Invoices, insurance and payments.', tables: billing },
      { name: 'ops', description: 'Rooms, staff shifts and supplies.', tables: ops },
      ...distractors.schemas,
    ],
  });
}
