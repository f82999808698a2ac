// GET /keyspaces (any token) and the admin-only ownership changes of key prefixes, entity types,
// change topics (CDC tables) and team hosts (loader hosts, purge hosts, surrogate-key prefixes).
import { Body, Controller, Delete, Get, HttpCode, Param, Post, Put, Res, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { BearerTokenGuard, CurrentPrincipal } from '../auth/bearer-token.guard';
import type { Principal } from '../auth/team-tokens';
import { ApplyKeyspacesDto, PutEntityTypeDto, PutPrefixDto, PutTeamHostsDto } from './keyspaces.dto';
import { KeyspacesService } from './keyspaces.service';

const ADMIN_ONLY = { status: 403, description: 'ADMIN_ONLY: a team token may read keyspaces, not change them' };
const CONFLICT = {
  status: 409,
  description:
    "KEYSPACE_CONFLICT: overlaps another team's prefix, removes the last declaration, or would leave stored mappings or source declarations outside their owners' keyspaces",
};

@ApiTags('keyspaces')
@ApiBearerAuth()
@ApiResponse({ status: 401, description: 'NOT_AUTHENTICATED' })
@UseGuards(BearerTokenGuard)
@Controller('keyspaces')
export class KeyspacesController {
  constructor(private readonly keyspaces: KeyspacesService) {}

  @Get()
  @ApiOperation({ summary: 'Which team owns which key prefixes and entity types (and grants); enforced = at least one is declared' })
  view() {
    return this.keyspaces.view();
  }

  @Put('prefixes/:prefix')
  @ApiOperation({ summary: 'Admin: a team owns every key and tag starting with this prefix (201 created, 200 changed/unchanged)' })
  @ApiResponse(ADMIN_ONLY)
  @ApiResponse(CONFLICT)
  async putPrefix(
    @Param('prefix') prefix: string,
    @Body() body: PutPrefixDto,
    @CurrentPrincipal() principal: Principal,
    @Res({ passthrough: true }) res: Response,
  ) {
    const outcome = await this.keyspaces.putPrefix(prefix, body, principal);
    res.status(outcome.created ? 201 : 200);
    return outcome.record;
  }

  @Delete('prefixes/:prefix')
  @HttpCode(204)
  @ApiOperation({ summary: 'Admin: remove a prefix ownership (refused while a stored mapping needs it)' })
  @ApiResponse(ADMIN_ONLY)
  @ApiResponse(CONFLICT)
  async deletePrefix(@Param('prefix') prefix: string, @CurrentPrincipal() principal: Principal): Promise<void> {
    await this.keyspaces.deletePrefix(prefix, principal);
  }

  @Put('entity-types/:type')
  @ApiOperation({ summary: 'Admin: a team owns an entity type (only it and granted teams may attach mappings to it)' })
  @ApiResponse(ADMIN_ONLY)
  @ApiResponse(CONFLICT)
  async putEntityType(
    @Param('type') type: string,
    @Body() body: PutEntityTypeDto,
    @CurrentPrincipal() principal: Principal,
    @Res({ passthrough: true }) res: Response,
  ) {
    const outcome = await this.keyspaces.putEntityType(type, body, principal);
    res.status(outcome.created ? 201 : 200);
    return outcome.record;
  }

  @Delete('entity-types/:type')
  @HttpCode(204)
  @ApiResponse(ADMIN_ONLY)
  @ApiResponse(CONFLICT)
  async deleteEntityType(@Param('type') type: string, @CurrentPrincipal() principal: Principal): Promise<void> {
    await this.keyspaces.deleteEntityType(type, principal);
  }

  @Put('entity-types/:type/grants/:team')
  @ApiOperation({ summary: 'Admin: let another team attach mappings to this entity type (its keys still only in its own prefixes)' })
  @ApiResponse(ADMIN_ONLY)
  grant(@Param('type') type: string, @Param('team') team: string, @CurrentPrincipal() principal: Principal) {
    return this.keyspaces.grant(type, team, principal);
  }

  @Delete('entity-types/:type/grants/:team')
  @HttpCode(204)
  @ApiResponse(ADMIN_ONLY)
  @ApiResponse(CONFLICT)
  async revoke(@Param('type') type: string, @Param('team') team: string, @CurrentPrincipal() principal: Principal): Promise<void> {
    await this.keyspaces.revoke(type, team, principal);
  }

  @Put('topics/:topic')
  @ApiOperation({
    summary:
      'Admin: a Debezium change topic (one table) belongs to a team: only that team may declare its source (201 created, 200 changed/unchanged)',
  })
  @ApiResponse(ADMIN_ONLY)
  @ApiResponse(CONFLICT)
  async putTopic(
    @Param('topic') topic: string,
    @Body() body: PutPrefixDto,
    @CurrentPrincipal() principal: Principal,
    @Res({ passthrough: true }) res: Response,
  ) {
    const outcome = await this.keyspaces.putTopic(topic, body, principal);
    res.status(outcome.created ? 201 : 200);
    return outcome.record;
  }

  @Delete('topics/:topic')
  @HttpCode(204)
  @ApiOperation({ summary: "Admin: remove a change topic's ownership (refused while a stored source declaration needs it)" })
  @ApiResponse(ADMIN_ONLY)
  @ApiResponse(CONFLICT)
  async deleteTopic(@Param('topic') topic: string, @CurrentPrincipal() principal: Principal): Promise<void> {
    await this.keyspaces.deleteTopic(topic, principal);
  }

  @Get('teams/:team')
  @ApiOperation({
    summary:
      "The hosts a team's mappings may use: loader hosts, purge hosts, surrogate-key prefixes (404 KEYSPACE_NOT_FOUND: none declared)",
  })
  getTeam(@Param('team') team: string) {
    return this.keyspaces.team(team);
  }

  @Put('teams/:team')
  @ApiOperation({
    summary:
      "Admin: the loader hosts, purge hosts (exact or *.suffix) and surrogate-key prefixes a team's mappings may use (absent list: unchanged)",
  })
  @ApiResponse(ADMIN_ONLY)
  @ApiResponse(CONFLICT)
  async putTeam(
    @Param('team') team: string,
    @Body() body: PutTeamHostsDto,
    @CurrentPrincipal() principal: Principal,
    @Res({ passthrough: true }) res: Response,
  ) {
    const outcome = await this.keyspaces.putTeam(team, body, principal);
    res.status(outcome.created ? 201 : 200);
    return outcome.record;
  }

  @Delete('teams/:team')
  @HttpCode(204)
  @ApiOperation({ summary: "Admin: remove a team's hosts record (refused while a stored mapping needs it)" })
  @ApiResponse(ADMIN_ONLY)
  @ApiResponse(CONFLICT)
  async deleteTeam(@Param('team') team: string, @CurrentPrincipal() principal: Principal): Promise<void> {
    await this.keyspaces.deleteTeam(team, principal);
  }

  @Post('apply')
  @HttpCode(200)
  @ApiOperation({
    summary:
      'Admin: declare many prefixes and entity types in one transaction (how an existing registry turns enforcement on); never removes',
  })
  @ApiResponse(ADMIN_ONLY)
  @ApiResponse(CONFLICT)
  apply(@Body() body: ApplyKeyspacesDto, @CurrentPrincipal() principal: Principal) {
    return this.keyspaces.apply(body, principal);
  }
}
