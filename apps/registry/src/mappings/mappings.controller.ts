import { Body, Controller, Delete, Get, Headers, HttpCode, Param, Post, Put, Query, Res, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiHeader, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { MappingDto, RegistryError } from '@app/registry-core';
import { BearerTokenGuard, CurrentPrincipal } from '../auth/bearer-token.guard';
import type { Principal } from '../auth/team-tokens';
import { AuditLog } from './audit-log';
import { MappingsService } from './mappings.service';
import { ApplyRequestDto, AuditQueryDto, ExplainRequestDto, ListMappingsQueryDto, PutMappingDto } from './requests.dto';

const ERRORS = {
  400: {
    status: 400,
    description:
      'invalid body; `code` (MAPPING_INVALID, TEMPLATE_SYNTAX, TEMPLATE_UNKNOWN_FIELD, FANOUT_LIMIT, ...) and `field` name what is wrong',
  },
  401: { status: 401, description: 'NOT_AUTHENTICATED: missing or unknown bearer token' },
  403: { status: 403, description: 'WRONG_TEAM: the mapping belongs to another team' },
  503: { status: 503, description: 'STORE_NOT_READY: the registry has not read the mappings topic to its end yet' },
};

/** "3", "\"3\"" or W/"3" -> 3; undefined when absent. */
export function parseIfMatch(header: string | undefined): number | undefined {
  if (header === undefined) return undefined;
  const match = /^(?:W\/)?"?(\d+)"?$/.exec(header.trim());
  if (!match) throw new RegistryError('REQUEST_INVALID', 'If-Match must be the mapping (or source) version, e.g. "3"', 'If-Match');
  return Number(match[1]);
}

@ApiTags('mappings')
@ApiBearerAuth()
@ApiResponse(ERRORS[401])
@ApiResponse(ERRORS[503])
@UseGuards(BearerTokenGuard)
@Controller()
export class MappingsController {
  constructor(
    private readonly mappings: MappingsService,
    private readonly audit: AuditLog,
  ) {}

  @Get('mappings')
  @ApiOperation({ summary: 'List mappings (optionally by entityType, owner, tenant)' })
  @ApiResponse({ status: 200, description: '{ mappings: Mapping[] }' })
  list(@Query() query: ListMappingsQueryDto) {
    return { mappings: this.mappings.list(query) };
  }

  @Get('mappings/:id')
  @ApiOperation({ summary: 'Get one mapping (ETag = its version)' })
  @ApiResponse({ status: 200, type: MappingDto })
  @ApiResponse({ status: 404, description: 'MAPPING_NOT_FOUND' })
  get(@Param('id') id: string, @Res({ passthrough: true }) res: Response) {
    const mapping = this.mappings.get(id);
    res.setHeader('ETag', `"${mapping.version}"`);
    return mapping;
  }

  @Put('mappings/:id')
  @ApiOperation({ summary: 'Create or replace a mapping (201 created, 200 replaced or unchanged). Your team must own it.' })
  @ApiHeader({ name: 'If-Match', required: false, description: 'expected current version; 409 VERSION_CONFLICT on mismatch' })
  @ApiResponse({ status: 200, type: MappingDto })
  @ApiResponse({ status: 201, type: MappingDto })
  @ApiResponse(ERRORS[400])
  @ApiResponse(ERRORS[403])
  @ApiResponse({ status: 409, description: 'VERSION_CONFLICT' })
  async put(
    @Param('id') id: string,
    @Body() body: PutMappingDto,
    @CurrentPrincipal() principal: Principal,
    @Headers('if-match') ifMatch: string | undefined,
    @Res({ passthrough: true }) res: Response,
  ) {
    const outcome = await this.mappings.put(id, body, principal, parseIfMatch(ifMatch));
    res.status(outcome.created ? 201 : 200).setHeader('ETag', `"${outcome.mapping.version}"`);
    return outcome.mapping;
  }

  @Delete('mappings/:id')
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete a mapping (a tombstone on the compacted topic). Your team must own it.' })
  @ApiHeader({ name: 'If-Match', required: false })
  @ApiResponse({ status: 204, description: 'deleted' })
  @ApiResponse(ERRORS[403])
  @ApiResponse({ status: 404, description: 'MAPPING_NOT_FOUND' })
  async delete(
    @Param('id') id: string,
    @CurrentPrincipal() principal: Principal,
    @Headers('if-match') ifMatch: string | undefined,
  ): Promise<void> {
    await this.mappings.delete(id, principal, parseIfMatch(ifMatch));
  }

  @Post('mappings/validate')
  @HttpCode(200)
  @ApiOperation({
    summary:
      'Check a mapping as PUT would (templates, fan-out with the stored set) without saving; returns the normalised mapping and the field changes it would make',
  })
  @ApiBody({ type: MappingDto })
  @ApiResponse(ERRORS[400])
  validate(@Body() body: MappingDto) {
    return this.mappings.validate(body);
  }

  @Post('mappings/apply')
  @HttpCode(200)
  @ApiOperation({
    summary:
      "GitOps apply of a mapping file: create/update what differs, delete missing mappings of the file's owners, all in one transaction (dryRun: diff only)",
  })
  @ApiResponse({ status: 200, description: '{ dryRun, diff: { added, changed, removed, unchanged } }' })
  @ApiResponse(ERRORS[400])
  @ApiResponse(ERRORS[403])
  apply(@Body() body: ApplyRequestDto, @CurrentPrincipal() principal: Principal) {
    return this.mappings.apply(body, principal);
  }

  @Post('explain')
  @HttpCode(200)
  @ApiOperation({
    summary:
      'Given a sample event, exactly the keys (per action) and tags it would touch; optional candidate mappings are used in place of stored ones (nothing saved)',
  })
  @ApiResponse({
    status: 200,
    description:
      'Explanation: { outcome: apply|no-mapping|partial|rejected, mappings, keys: { delete, tombstone, warm }, tags, skipped, failed (mappings whose part is dead-lettered), fanout, fanoutCap, error? }',
  })
  @ApiResponse({ status: 400, description: 'EVENT_INVALID (field names the wrong event field) or an invalid candidate mapping' })
  explain(@Body() body: ExplainRequestDto) {
    return this.mappings.explain(body);
  }

  @Get('audit')
  @ApiOperation({
    summary: 'Audit entries, newest first: who (team, name, token id), when, which mapping, versions and the field-level diff',
  })
  @ApiResponse({ status: 200, description: '{ entries: AuditEntry[] }' })
  auditList(@Query() query: AuditQueryDto) {
    return { entries: this.audit.list(query) };
  }
}
