// The JSON Schema beside the DTO describes the same event: same fields, same required set.
import { getMetadataStorage } from 'class-validator';
import schema from './entity-updated.schema.json';
import { EntityUpdatedEvent } from './entity-updated.event';

describe('entity.updated JSON Schema vs. class-validator DTO', () => {
  const metadata = getMetadataStorage().getTargetValidationMetadatas(EntityUpdatedEvent, '', true, false);
  const fields = [...new Set(metadata.map((m) => m.propertyName))].sort();
  const optional = [...new Set(metadata.filter((m) => m.type === 'conditionalValidation').map((m) => m.propertyName))].sort();

  it('lists the same properties', () => {
    expect(Object.keys(schema.properties).sort()).toEqual(fields);
  });

  it('requires exactly the fields the DTO does not mark optional', () => {
    expect([...schema.required].sort()).toEqual(fields.filter((f) => !optional.includes(f)));
  });
});
