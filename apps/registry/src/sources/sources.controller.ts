// The source declaration API: which Debezium change topic is which entity type. Any token reads;
// a team writes only its own declarations, for topics and entity types its team owns.
import { Body, Controller, Delete, Get, Headers, HttpCode, Param, Post, Put, Query, Res, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiHeader, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { SourceDto } from '@app/registry-core';
import { BearerTokenGuard, CurrentPrincipal } from '../auth/bearer-token.guard';
import type { Principal } from '../auth/team-tokens';
import { parseIfMatch } from '../mappings/mappings.controller';
import { ApplySourcesDto, ListSourcesQueryDto, PutSourceDto } from './sources.dto';
import { SourcesService } from './sources.service';

const ERRORS = {
  400: {
    status: 400,
    description: 'REQUEST_INVALID (shape) or SOURCE_INVALID (a column or field name, a rename); `field` names what is wrong',
  },
  403: {
    status: 403,
    description:
      "WRONG_TEAM: the declaration belongs to another team (or names another owner); FOREIGN_KEYSPACE: the owner does not own the topic (an admin's topic record) or the entity type (a grant is not enough)",
  },
  409: {
    status: 409,
    description:
      'VERSION_CONFLICT; SOURCE_CONFLICT (one entity type versioned by a column in one table and by WAL position in another); KEYSPACES_REQUIRED',
  },
};

@ApiTags('sources')
@ApiBearerAuth()
@ApiResponse({ status: 401, description: 'NOT_AUTHENTICATED' })
@ApiResponse({ status: 503, description: 'STORE_NOT_READY' })
@UseGuards(BearerTokenGuard)
@Controller('sources')
export class SourcesController {
  constructor(private readonly sources: SourcesService) {}

  @Get()
  @ApiOperation({ summary: 'List CDC source declarations (optionally by owner, entityType)' })
  @ApiResponse({ status: 200, description: '{ sources: SourceDeclaration[] }' })
  list(@Query() query: ListSourcesQueryDto) {
    return { sources: this.sources.list(query) };
  }

  @Get(':topic')
  @ApiOperation({ summary: "One change topic's declaration (ETag = its version)" })
  @ApiResponse({ status: 200, type: SourceDto })
  @ApiResponse({ status: 404, description: 'SOURCE_NOT_FOUND' })
  get(@Param('topic') topic: string, @Res({ passthrough: true }) res: Response) {
    const source = this.sources.get(topic);
    res.setHeader('ETag', `"${source.version}"`);
    return source;
  }

  @Put(':topic')
  @ApiOperation({
    summary:
      'Declare which entity type the rows of a Debezium change topic are, and which columns give id, tenant and version (201 created, 200 replaced or unchanged). Your team must own the topic and the entity type.',
  })
  @ApiHeader({ name: 'If-Match', required: false, description: 'expected current version; 409 VERSION_CONFLICT on mismatch' })
  @ApiResponse({ status: 200, type: SourceDto })
  @ApiResponse({ status: 201, type: SourceDto })
  @ApiResponse(ERRORS[400])
  @ApiResponse(ERRORS[403])
  @ApiResponse(ERRORS[409])
  async put(
    @Param('topic') topic: string,
    @Body() body: PutSourceDto,
    @CurrentPrincipal() principal: Principal,
    @Headers('if-match') ifMatch: string | undefined,
    @Res({ passthrough: true }) res: Response,
  ) {
    const outcome = await this.sources.put(topic, body, principal, parseIfMatch(ifMatch));
    res.status(outcome.created ? 201 : 200).setHeader('ETag', `"${outcome.source.version}"`);
    return outcome.source;
  }

  @Delete(':topic')
  @HttpCode(204)
  @ApiOperation({
    summary:
      "Delete a declaration (a tombstone on the compacted topic): the invalidators dead-letter the topic's row changes CDC_NO_SOURCE from the next chunk on. Your team must own it.",
  })
  @ApiHeader({ name: 'If-Match', required: false })
  @ApiResponse({ status: 204, description: 'deleted' })
  @ApiResponse(ERRORS[403])
  @ApiResponse({ status: 404, description: 'SOURCE_NOT_FOUND' })
  async delete(
    @Param('topic') topic: string,
    @CurrentPrincipal() principal: Principal,
    @Headers('if-match') ifMatch: string | undefined,
  ): Promise<void> {
    await this.sources.delete(topic, principal, parseIfMatch(ifMatch));
  }

  @Post('apply')
  @HttpCode(200)
  @ApiOperation({
    summary:
      "GitOps apply of a file's `sources:`: create/update what differs, delete missing declarations of the file's owners, in one transaction (dryRun: check and list only)",
  })
  @ApiResponse({ status: 200, description: '{ dryRun, changes: [{ key, topic, kind, changes }], unchanged }' })
  @ApiResponse(ERRORS[400])
  @ApiResponse(ERRORS[403])
  @ApiResponse(ERRORS[409])
  apply(@Body() body: ApplySourcesDto, @CurrentPrincipal() principal: Principal) {
    return this.sources.apply(body, principal);
  }
}
